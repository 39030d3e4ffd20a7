"""`main.py train --tensorboard DIR`: the event files a run writes, read back with
TensorBoard's own reader; and the sentence when tensorboard is not installed."""

import builtins
import json
import sys

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import main
from engine.errors import TrainingError
from engine.training.tensorboard_log import INSTALL, summary_writer
from tests.paths import PRESETS


def _events(folder) -> EventAccumulator:
    accumulator = EventAccumulator(str(folder), size_guidance={"histograms": 0, "scalars": 0})
    accumulator.Reload()
    return accumulator


def test_a_run_writes_scalars_layer_norms_histograms_graph_and_hparams(tmp_path, capsys):
    logs = tmp_path / "logs"
    args = [str(PRESETS / "digits_cnn.json"), "--epochs", "2", "--out", str(tmp_path / "run")]
    assert main.main(["train", *args, "--tensorboard", str(logs)]) == 0
    events = _events(logs)
    tags = events.Tags()
    scalars = set(tags["scalars"])
    assert {"loss/train", "loss/val", "loss/batch", "lr", "val/accuracy"} <= scalars
    assert {"grad_norm/conv1", "weight_norm/fc2", "update_ratio/conv2"} <= scalars
    assert [e.step for e in events.Scalars("loss/val")] == [23, 46]  # 23 batches an epoch
    val = [e.value for e in events.Scalars("val/accuracy")]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert val[-1] == pytest.approx(summary["val_accuracy"])
    assert all(e.value > 0 for e in events.Scalars("grad_norm/conv1"))
    assert {"weights/conv1", "gradients/conv1", "weights/fc2"} <= set(tags["histograms"])
    assert len(events.Histograms("weights/conv1")) == 2  # one per epoch
    assert tags["graph"] is True
    assert any("conv1" in node.name for node in events.Graph().node)
    hparams = events.PluginTagToContent("hparams")
    assert {"_hparams_/experiment", "_hparams_/session_end_info"} <= set(hparams)
    assert "final/val_accuracy" in scalars and "final/seconds" not in scalars


def test_without_tensorboard_installed_the_error_says_how_to_install_it(monkeypatch, tmp_path):
    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name.startswith("torch.utils.tensorboard") or name.startswith("tensorboard"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "torch.utils.tensorboard", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    with pytest.raises(TrainingError, match="need the tensorboard package") as raised:
        summary_writer(tmp_path)
    assert INSTALL in str(raised.value)
