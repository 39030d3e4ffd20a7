"""The data preview in the Training Settings: real data loaded in the background, shown
as pictures or a table, and its problems explained before Train starts anything."""

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from engine.document.commands import SetParams
from gui.training import TrainingState
from tests.data_files import write_mnist

RUN_MS = 30_000


def loaded(qtbot, window, preset: str | None = None):
    """Open `preset` (if given) and wait until its data is previewed."""
    check = window.training.session.data_check
    if preset is not None:
        assert window.files.open_preset(preset)
    qtbot.waitUntil(check.settled, timeout=RUN_MS)
    return window.training_settings.preview


def captions(view) -> list[str]:
    labels = view.thumbnails.findChildren(QLabel)
    return [label.text() for label in labels if label.text()]


def test_an_image_set_shows_its_counts_and_one_picture_per_class(qtbot, window):
    view = loaded(qtbot, window, "digits_mlp")
    text = view.summary.text()
    assert "builtin digits: 1,797 samples" in text
    assert "training 1,438, validation 359 (split)" in text
    assert "10 classes" in text and "0 (142)" in text
    assert view.thumbnails.isVisibleTo(window) and not view.table.isVisibleTo(window)
    assert captions(view) == [str(i) for i in range(8)]
    pixmaps = [label.pixmap() for label in view.thumbnails.findChildren(QLabel)]
    assert any(p is not None and not p.isNull() and p.width() == 56 for p in pixmaps)
    assert not view.problems.isVisibleTo(window)


def data_row_shown(window, name: str) -> bool:
    data = window.training_settings.data
    return data.form.isRowVisible(data.editor(name))


def test_a_table_shows_regression_samples_and_a_change_of_data_reloads(qtbot, window):
    view = loaded(qtbot, window, "multitask")
    assert data_row_shown(window, "val_fraction") and not data_row_shown(window, "stratify")
    assert "regression, 2 target column(s)" in view.summary.text()
    assert view.table.isVisibleTo(window) and not view.thumbnails.isVisibleTo(window)
    assert view.table.rowCount() == 8
    assert view.table.horizontalHeaderItem(0).text() == "target"
    check = window.training.session.data_check
    with qtbot.waitSignal(check.changed, timeout=RUN_MS):
        window.document.set_setting(("data", "samples"), 300)
    loaded(qtbot, window)
    assert "synthetic multi_target: 300 samples" in view.summary.text()
    with qtbot.waitSignal(check.changed, timeout=RUN_MS):
        window.document.undo_stack.undo()
    loaded(qtbot, window)
    assert "1,000 samples" in view.summary.text()


def test_a_missing_file_is_named_and_train_explains_it(qtbot, window, tmp_path):
    loaded(qtbot, window, "digits_mlp")
    window.document.set_setting(("data", "kind"), "csv")
    window.document.set_setting(("data", "path"), str(tmp_path / "nowhere.csv"))
    view = loaded(qtbot, window)
    assert "The data cannot be read:" in view.summary.text()
    assert "nowhere.csv" in view.summary.text()
    assert not view.thumbnails.isVisibleTo(window)
    assert not window.training.session.train()
    status = window.training.bar.status.text()
    assert "The data cannot be read:" in status and "nowhere.csv" in status


def test_mnist_files_still_to_download_do_not_stop_a_run(qtbot, window, tmp_path):
    loaded(qtbot, window, "mnist_mlp")
    window.document.set_setting(("data", "path"), str(tmp_path))
    window.document.set_setting(("data", "download"), True)
    view = loaded(qtbot, window)
    assert "not here yet; training fetches them" in view.summary.text()
    assert "cannot be read" not in view.summary.text()
    assert window.training.session.data_check.problems() == []
    write_mnist(tmp_path, train=20, test=6)
    with qtbot.waitSignal(window.training.session.data_check.changed, timeout=RUN_MS):
        window.training_settings.preview.reload.click()
    view = loaded(qtbot, window)
    assert "training 20, validation 6 (own test files)" in view.summary.text()
    assert not data_row_shown(window, "val_fraction") and not data_row_shown(window, "stratify")


def test_labels_beyond_the_output_are_explained_before_the_run(qtbot, window):
    view = loaded(qtbot, window, "digits_mlp")
    graph = window.document.graph
    last = next(
        e.src for n in graph.nodes.values() if n.type == "Output" for e in graph.inputs_of(n.id)
    )
    window.document.push(SetParams(last, {"out_features": 5}))
    expected = "training labels go up to 9, but output 'out' has 5 classes"
    assert expected in view.problems.text() and view.problems.isVisibleTo(window)
    session = window.training.session
    assert not session.train()
    assert session.controller.state == TrainingState.IDLE
    assert expected in window.training.bar.status.text()
    window.document.undo_stack.undo()
    assert not view.problems.isVisibleTo(window)


def test_a_sample_that_does_not_fit_the_input_is_explained(qtbot, window):
    view = loaded(qtbot, window, "digits_cnn")
    graph = window.document.graph
    source = next(n for n in graph.nodes.values() if n.type == "Input")
    window.document.push(SetParams(source.id, {"shape": [1, 28, 28]}))
    assert "a sample has shape (64,)" in view.problems.text()
    assert not window.training.session.train()


def test_reload_reads_a_changed_file_again(qtbot, window, tmp_path):
    path = Path(tmp_path / "points.csv")
    path.write_text("a,b,label\n" + "\n".join(f"{i},{i},{i % 2}" for i in range(20)) + "\n")
    loaded(qtbot, window, "binary_classifier")
    window.document.set_setting(("data", "kind"), "csv")
    window.document.set_setting(("data", "path"), str(path))
    window.document.set_setting(("data", "target"), "label")
    view = loaded(qtbot, window)
    assert ": 20 samples" in view.summary.text()
    path.write_text("a,b,label\n" + "\n".join(f"{i},{i},{i % 2}" for i in range(30)) + "\n")
    check = window.training.session.data_check
    with qtbot.waitSignal(check.changed, timeout=RUN_MS):
        view.reload.click()
    loaded(qtbot, window)
    assert ": 30 samples" in view.summary.text()


def test_a_load_ending_keeps_a_refused_value_and_its_reason(qtbot, window):
    loaded(qtbot, window, "digits_mlp")
    data = window.training_settings.data
    field = data.fields["val_fraction"]
    check = window.training.session.data_check
    with qtbot.waitSignal(check.changed, timeout=RUN_MS):
        check.reload()
    field.editor.edit.setText("7")
    qtbot.keyClick(field.editor.edit, Qt.Key.Key_Return)
    reason = field.error.text()
    assert "val fraction" in reason
    with qtbot.waitSignal(check.changed, timeout=RUN_MS):
        pass  # the reload ends
    assert field.error.text() == reason and field.editor.edit.text() == "7"


def test_an_image_folder_previews_at_once_and_its_first_run_shows_the_decoding(
    qtbot, window, tmp_path
):
    from tests.data_files import save_image

    for i in range(600):  # ten classes, as the digits CNN's last layer has outputs
        save_image(tmp_path / "shapes" / f"c{i % 10}" / f"{i:03}.png", i % 256)
    view = loaded(qtbot, window, "digits_cnn")
    check = window.training.session.data_check
    with qtbot.waitSignal(check.changed, timeout=RUN_MS):
        window.document.set_setting(("data", "image_size"), [8, 8])
        window.document.set_setting(("data", "path"), str(tmp_path / "shapes"))
        window.document.set_setting(("data", "kind"), "image_folder")
    loaded(qtbot, window)
    assert "image folder shapes: 600 samples" in view.summary.text()
    assert "c0 (48)" in view.summary.text() and data_row_shown(window, "bad_images")
    assert captions(view)[:3] == ["c0", "c1", "c2"]
    window.document.project.training["epochs"] = 1
    controller = window.training.session.controller
    decoding, shown = [], []
    progress = window.training.bar.progress
    controller.decoding.connect(lambda done, total: decoding.append((done, total)))
    controller.decoding.connect(lambda *_: shown.append(progress.format()))
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS) as done:
        qtbot.mouseClick(window.training.bar.train, Qt.MouseButton.LeftButton)
    assert done.args[0]["status"] == "completed"
    assert decoding[-1] == (600, 600)
    assert shown[-1] == "decoding images into the cache: 600 of 600"


def test_a_series_is_plotted_with_the_start_of_its_validation_period(qtbot, window, tmp_path):
    import pyqtgraph as pg

    view = loaded(qtbot, window, "time_series_forecast")
    assert "training 2,208, validation 564" in view.summary.text()
    assert view.series.isVisibleTo(window) and not view.lengths.isVisibleTo(window)
    [curve] = view.series.getPlotItem().listDataItems()
    times, values = curve.getData()
    assert len(times) == 2820 and values[0] == 58.0  # January 1749, as the file has it
    [split] = [i for i in view.series.getPlotItem().items if isinstance(i, pg.InfiniteLine)]
    assert abs(split.value() - 1937.0) < 0.01
    cells = [view.columns.item(1, i).text() for i in range(4)]
    assert cells == ["value", "double", "0", "target (and an input)"]
    view.grab().save(str(tmp_path / "series.png"))


def test_texts_show_their_tokens_and_a_histogram_of_lengths(qtbot, window, tmp_path):
    import pyqtgraph as pg

    view = loaded(qtbot, window, "text_classification")
    assert view.texts.isVisibleTo(window) and view.lengths.isVisibleTo(window)
    assert not view.table.isVisibleTo(window)
    assert "Overall i enjoy the app!\n   → overall i enjoy the app !" in view.texts.text()
    [bars] = [i for i in view.lengths.getPlotItem().items if isinstance(i, pg.BarGraphItem)]
    assert sum(bars.opts["height"]) == 3000
    assert "max_length 40: 0 of 3,000 texts are cut" in view.lengths.getPlotItem().titleLabel.text
    assert "sample shape [40], int64" in view.summary.text()
    view.grab().save(str(tmp_path / "texts.png"))
    window.grab().save(str(tmp_path / "texts_window.png"))


def test_a_large_table_is_previewed_from_its_first_rows(qtbot, window, tmp_path):
    rows = "".join(
        f"{i},{'abc'[i % 3]},{'' if i % 97 == 0 else i % 5},{i % 2}\n" for i in range(25_000)
    )
    path = tmp_path / "big.csv"
    path.write_text("id,colour,score,label\n" + rows)
    window.document.set_setting(("data", "kind"), "csv")
    window.document.set_setting(("data", "missing"), "mean")
    window.document.set_setting(("data", "ignore"), "id")
    window.document.set_setting(("data", "path"), str(path))
    view = loaded(qtbot, window)
    assert "25,000 samples (the first 20,000 rows read)" in view.summary.text()
    uses = {view.columns.item(r, 0).text(): view.columns.item(r, 3).text() for r in range(4)}
    assert uses == {
        "id": "ignored",
        "colour": "one-hot, 3 categories",
        "score": "feature",
        "label": "target",
    }
    assert view.columns.item(2, 2).text() == f"{len(range(0, 20_000, 97)):,}"  # missing cells
    assert "sample shape [4], float32" in view.summary.text()
