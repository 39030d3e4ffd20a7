"""The live plots on their own: bursts of batches and epochs, the y range, resumed
history and overlays; and the collector that keeps the window's pauses short."""

import gc
import sys
import types

import pyqtgraph as pg
import pytest

from gui.collector import Collector
from gui.training.live_curve import FEW_POINTS
from gui.training.plots import TrainingPlots
from tests.gui.widget_helpers import shown


def rows(first: int, last: int, loss=lambda epoch: 1 / epoch) -> list[dict]:
    return [
        {"epoch": e, "lr": 0.01, "train_loss": loss(e), "val_loss": loss(e), "val_r2": 0.5}
        for e in range(first, last + 1)
    ]


def y_range(plot: pg.PlotWidget) -> tuple[float, float]:
    low, high = plot.getPlotItem().vb.viewRange()[1]
    return low, high


def drawn_out(qtbot, plots: TrainingPlots) -> TrainingPlots:
    """`plots` once each plot has had its turn to draw."""
    qtbot.waitUntil(lambda: not plots.drawing, timeout=2000)
    return plots


def test_the_y_range_holds_while_the_data_fits_and_grows_when_it_leaves(qtbot):
    plots = shown(qtbot, TrainingPlots(), 900, 600)
    plots.start_run({"epochs": 10, "batches_per_epoch": 2})
    plots.add_batches([(1, 1, 2.0), (1, 2, 1.0)])
    first = y_range(drawn_out(qtbot, plots).loss_plot)
    assert first[0] == 0 and first[1] > 2.0  # a loss from zero: falling, it stays inside
    plots.add_batches([(2, 1, 1.5), (2, 2, 1.2), (3, 1, 0.2)])
    assert y_range(drawn_out(qtbot, plots).loss_plot) == first
    plots.add_batches([(3, 2, 2.5)])
    low, high = y_range(drawn_out(qtbot, plots).loss_plot)
    assert low == 0 and high > 2.5  # grown where the data left it
    plots.add_epochs(rows(1, 3))
    drawn_out(qtbot, plots)
    low, high = y_range(plots.lr_plot)
    assert low == 0 and high > 0.01  # from zero: a constant rate is a flat line
    low, high = y_range(plots.score_plot)
    assert low < 0.5 and high >= 1.0  # up to the best score


def test_overlays_widen_the_range_and_leave_it_when_taken_away(qtbot):
    plots = shown(qtbot, TrainingPlots(), 900, 600)
    plots.start_run({"epochs": 5, "batches_per_epoch": 1})
    drawn_out(qtbot, plots).add_epochs(rows(1, 5))
    drawn_out(qtbot, plots)
    alone = y_range(plots.loss_plot)
    plots.set_overlays([("Run 1", rows(1, 5, loss=lambda epoch: 5.0 * epoch))])
    assert y_range(plots.loss_plot)[1] > 25.0
    plots.set_overlays([])
    assert y_range(plots.loss_plot) == alone


@pytest.fixture
def drawn(monkeypatch) -> list[str]:
    """The name of each curve given data (`setData`), in order; not counted: the call
    that makes a curve, before it has its name."""
    names = []
    set_data = pg.PlotDataItem.setData

    def counted(item, *args, **kwargs):
        if item.name() is not None:
            names.append(item.name())
        return set_data(item, *args, **kwargs)

    monkeypatch.setattr(pg.PlotDataItem, "setData", counted)
    return names


def test_a_resumed_history_is_drawn_once_per_curve_and_plain_when_long(qtbot, drawn):
    plots = shown(qtbot, TrainingPlots(), 900, 600)
    history = rows(1, FEW_POINTS + 40)
    plots.start_run({"epochs": 200, "batches_per_epoch": 1, "history": history})
    drawn_out(qtbot, plots)
    epoch_curves = ["train (epoch)", "validation", "lr", "val R²"]
    assert sorted(name for name in drawn if name in epoch_curves) == sorted(epoch_curves)
    for curve in (plots.train_curve, plots.lr_curve, plots.score_curves["val_r2"]):
        assert curve.points.size == len(history) and curve.item.opts["symbol"] is None
    assert plots.describe(3.2).startswith("epoch 3: lr 0.01, train loss 0.3333")
    drawn_out(qtbot, plots).start_run({"epochs": 5, "batches_per_epoch": 1})
    drawn_out(qtbot, plots).add_epochs(rows(1, 2))
    drawn_out(qtbot, plots)
    assert plots.train_curve.item.opts["pen"].width() == 2  # a new, short run: bold again
    assert plots.train_curve.item.opts["symbol"] is None  # while it streams in
    drawn.clear()
    drawn_out(qtbot, plots).end_run()
    drawn_out(qtbot, plots)
    assert plots.train_curve.item.opts["symbol"] == "o"  # ended: its few points marked
    assert sorted(drawn) == sorted(epoch_curves)  # once each, the batch curves untouched


def test_hidden_plots_draw_nothing_until_they_show_and_then_each_curve_once(qtbot, drawn):
    plots = TrainingPlots()  # not shown: another tab is in front
    qtbot.addWidget(plots)
    plots.start_run({"epochs": 100, "batches_per_epoch": 1})
    for epoch in range(1, 101):
        plots.add_batches([(epoch, 1, 1 / epoch)])
        plots.add_epochs(rows(epoch, epoch))
    assert drawn == []
    plots.show()
    qtbot.waitExposed(plots)
    drawn_out(qtbot, plots)
    names = ["batch", "batch, smoothed", "train (epoch)", "validation", "lr", "val R²"]
    assert sorted(drawn) == sorted(names)
    assert plots.train_curve.item.getOriginalDataset()[0].size == 100
    low, high = y_range(plots.loss_plot)
    assert low < 0.01 and high > 1.0


def test_a_burst_draws_one_plot_at_a_time_the_loss_first(qtbot, drawn):
    plots = shown(qtbot, TrainingPlots(), 900, 600)
    plots.start_run({"epochs": 10, "batches_per_epoch": 1})
    drawn_out(qtbot, plots)
    drawn.clear()
    plots.add_batches([(1, 1, 1.0), (2, 1, 0.5)])
    plots.add_epochs(rows(1, 2))
    assert drawn == [] and plots.drawing  # from the next pass of the event loop on
    drawn_out(qtbot, plots)
    assert sorted(drawn[:4]) == ["batch", "batch, smoothed", "train (epoch)", "validation"]
    assert drawn[4:] == ["val R²", "lr"]  # each plot once, in turn


def test_a_new_run_keeps_the_y_ranges_its_data_fills_and_the_x_axis_it_spans(qtbot):
    plots = shown(qtbot, TrainingPlots(), 900, 600)
    plots.span(10)
    x_range = plots.loss_plot.getPlotItem().vb.viewRange()[0]
    assert x_range[0] < 0 < 10 < x_range[1]
    plots.start_run({"epochs": 10, "batches_per_epoch": 1})
    plots.add_epochs(rows(1, 10))
    drawn_out(qtbot, plots)
    first = y_range(plots.loss_plot)
    plots.start_run({"epochs": 10, "batches_per_epoch": 1})
    plots.add_epochs(rows(1, 3, loss=lambda epoch: 0.5 / epoch))  # fits and fills it
    drawn_out(qtbot, plots)
    assert y_range(plots.loss_plot) == first
    assert plots.loss_plot.getPlotItem().vb.viewRange()[0] == x_range  # spanned already
    plots.start_run({"epochs": 20, "batches_per_epoch": 1})
    plots.add_epochs(rows(1, 3, loss=lambda epoch: 0.01 / epoch))  # a speck in it
    drawn_out(qtbot, plots)
    low, high = y_range(plots.loss_plot)
    assert low == 0 and 0.01 < high < 0.02
    assert plots.loss_plot.getPlotItem().vb.viewRange()[0][1] > 20


def test_a_new_run_keeps_the_score_curves_it_shares_and_drops_the_others(qtbot):
    plots = shown(qtbot, TrainingPlots(), 900, 600)
    plan = {"epochs": 5, "batches_per_epoch": 1}
    plots.start_run(plan)
    plots.add_epochs(rows(1, 3))
    kept = plots.score_curves["val_r2"].item
    plots.start_run(plan)
    drawn_out(qtbot, plots).add_epochs(rows(1, 2))
    drawn_out(qtbot, plots)
    assert plots.score_curves["val_r2"].item is kept and len(kept.getOriginalDataset()[0]) == 2
    plots.start_run(plan)
    plots.add_epochs([{"epoch": 1, "lr": 0.1, "train_loss": 1.0, "val_accuracy": 0.5}])
    assert list(plots.score_curves) == ["val_accuracy"]
    assert kept not in plots.score_plot.getPlotItem().listDataItems()


def test_settle_sets_aside_what_is_alive_when_modules_came_and_release_lets_go(qtbot):
    collector = Collector()
    assert not gc.isenabled()  # collected on the GUI thread's timer only
    collector.settle()
    young = [[]]
    collector.settle()  # no module imported since: nothing more is set aside
    assert any(obj is young for obj in gc.get_objects())
    sys.modules["torchwright_test_module"] = types.ModuleType("torchwright_test_module")
    try:
        collector.settle()
        assert not any(obj is young for obj in gc.get_objects())
        collector.release()
        assert any(obj is young for obj in gc.get_objects())
        assert gc.get_freeze_count() == 0 and not gc.isenabled()
    finally:
        del sys.modules["torchwright_test_module"]


def test_the_window_sets_its_start_up_aside_until_it_closes(window, qtbot):
    qtbot.waitUntil(lambda: gc.get_freeze_count() > 0)  # at the collector's first round
    assert window.close()
    assert gc.get_freeze_count() == 0
