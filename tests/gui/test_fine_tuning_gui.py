"""Fine-tuning in the window: freezing in the inspector, Load Weights into Model, and
Download Pretrained Weights from a real HTTP server on 127.0.0.1."""

import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QMessageBox, QProgressDialog

from engine.document.project import save
from tests.engine.test_fine_tuning import digits_project, node, pretrained
from tests.engine.test_pretrained import hub, publish, server  # noqa: F401 - fixtures


def opened(window, qtbot, tmp_path):
    save(digits_project(tmp_path), tmp_path / "tune.json")
    assert window.open_project(tmp_path / "tune.json")
    qtbot.waitUntil(lambda: window.document.inference is not None, timeout=30_000)
    return window.document.project


def test_freezing_a_layer_in_the_inspector_marks_it_and_counts_what_trains(window, qtbot, tmp_path):
    project = opened(window, qtbot, tmp_path)
    fc1 = node(project, "fc1")
    window.document.select([fc1.id])
    qtbot.waitUntil(lambda: window.findChild(QCheckBox, "frozen") is not None)
    box = window.findChild(QCheckBox, "frozen")
    qtbot.waitUntil(box.isVisible)
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    assert fc1.frozen
    item = window.canvas.scene().node_item(fc1.id)
    qtbot.waitUntil(lambda: "❄ frozen" in item.texts())
    trainable = window.document.inference.total_params() - (64 * 32 + 32)  # fc1 frozen
    qtbot.waitUntil(lambda: f"({trainable:,} trainable)" in window._status.text())
    window.document.undo_stack.undo()
    assert not fc1.frozen
    qtbot.waitUntil(lambda: "❄ frozen" not in item.texts())


def test_weights_with_another_head_load_once_the_user_skips_it(
    window, qtbot, tmp_path, monkeypatch
):
    opened(window, qtbot, tmp_path)
    asked = []
    monkeypatch.setattr(
        QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.Yes
    )
    path = pretrained(tmp_path)
    window.weights.check(path, skip=False)
    training = window.document.project.training
    qtbot.waitUntil(lambda: training["init_weights"] == path, timeout=30_000)
    assert training["skip_mismatched"] and asked and "fc2.weight" in asked[0][2]
    report = window.findChild(QMessageBox, "weightsReport")
    assert report.text().startswith("loaded 7 of the model's 9 tensors")
    window.document.undo_stack.undo()  # one step takes both settings back
    assert training["init_weights"] == "" and not training["skip_mismatched"]


def test_weights_that_fit_nothing_are_a_sentence(window, qtbot, tmp_path):
    opened(window, qtbot, tmp_path)
    torch.save({"encoder.weight": torch.zeros(1)}, tmp_path / "other.pt")
    window.weights.check(str(tmp_path / "other.pt"), skip=False)
    qtbot.waitUntil(lambda: bool(window.errors), timeout=30_000)
    assert "none of the tensors" in window.errors[0]
    assert window.document.project.training["init_weights"] == ""


def test_published_weights_download_with_progress_and_load(window, qtbot, tmp_path, hub, server):  # noqa: F811
    folder, address = server
    project = opened(window, qtbot, tmp_path)
    weights = torch.load(pretrained(tmp_path), weights_only=True)["state_dict"]
    url = f"{address}/{publish(folder, weights)}"
    project.pretrained = {"url": url, "about": "test weights"}
    window.document.project_replaced.emit()  # as opening a zoo preset does
    action = window.menu_actions["download_weights"]
    assert action.isEnabled()
    action.trigger()
    assert window.findChild(QProgressDialog, "downloadProgress") is not None
    qtbot.waitUntil(lambda: project.training["init_weights"] == url, timeout=30_000)
    assert (hub / "checkpoints" / url.rsplit("/", 1)[1]).is_file()


def test_offline_the_download_says_so_and_changes_nothing(window, qtbot, tmp_path, hub):  # noqa: F811
    project = opened(window, qtbot, tmp_path)
    project.pretrained = {"url": "http://127.0.0.1:9/resnet18-f37072fd.pth", "about": ""}
    window.weights.download()
    qtbot.waitUntil(lambda: bool(window.errors), timeout=30_000)
    assert "may be offline" in window.errors[0]
    assert project.training["init_weights"] == ""
