"""The Layers view of the Training tab and Training > Colour Layers by Gradient, from the
window: a real run fills the heat map and tints the nodes live, a frozen layer shows as
having no gradient, the next run starts them afresh, and a run picked in the Runs table
shows the layers.csv it kept. Also the colour scale and the grid behind the map."""

import numpy as np
import pytest
from PySide6.QtGui import QAction, QColor

from engine.document.commands import SetTuning
from gui.canvas import style
from gui.colour_scale import NO_GRADIENT, scale_colours
from gui.gradient_colours import gradient_tints
from gui.training.layer_grid import QUANTITIES, LayerGrid
from gui.training.layers_view import bar_ticks, colour_range, heat_image
from tests.gui.test_training_panel import RUN_MS, button, click, saved_preset

RATIO, UPDATE, STD, ZEROS = QUANTITIES

# --- the colour scale -------------------------------------------------------------------


def test_the_scale_runs_from_blue_to_red_and_clips_at_its_ends():
    colours = scale_colours(np.array([-5.0, 0.0, 0.5, 1.0, 7.0]), 0.0, 1.0)
    assert colours.shape == (5, 4) and colours.dtype == np.uint8
    assert colours[0].tolist() == colours[1].tolist() == [44, 123, 182, 255]  # blue
    assert colours[-1].tolist() == colours[-2].tolist() == [215, 25, 28, 255]  # red
    assert colours[2].tolist() == [255, 255, 191, 255]  # pale yellow in the middle
    quarter, between = scale_colours(np.array([0.25, 0.125]), 0, 1)
    assert quarter.tolist() == [171, 217, 233, 255]  # light blue
    assert between.tolist() == [108, 170, 208, 255]  # halfway from blue to light blue


def test_a_missing_value_is_transparent_and_an_image_keeps_its_shape():
    image = scale_colours(np.array([[np.nan, 2.0], [3.0, np.inf]]), 2.0, 3.0)
    assert image.shape == (2, 2, 4)
    assert image[0, 0, 3] == 0 and image[0, 1, 3] == 255
    assert image[1, 1].tolist() == image[1, 0].tolist()  # infinite: the high end
    assert scale_colours(0.5, 0, 1).shape == (4,)


# --- the grid behind the map ------------------------------------------------------------


def _record(step: int, grad: float | None = 1e-3) -> dict:
    frozen = {"weight_norm": 2.0, "grad_norm": None, "update_ratio": None}
    return {
        "epoch": 1 + step // 100,
        "batch": step % 100,
        "step": step,
        "layers": {
            "x": {"mean": 0.0, "std": 1.0, "zeros": None},
            "fc1": {**frozen, "mean": 0.1, "std": 0.5, "zeros": None, "no_gradient": "frozen"},
            "relu": {"mean": 0.2, "std": 0.3, "zeros": 0.25},
            "fc2": {"weight_norm": 4.0, "grad_norm": grad, "update_ratio": 1e-3, "std": 2.0},
        },
    }


def test_the_grid_keeps_a_row_per_layer_and_a_column_per_record_as_it_grows():
    grid = LayerGrid()
    grid.add([_record(step, grad=step * 1e-4) for step in range(1, 41)])
    grid.add([_record(41)])
    table = grid.table(RATIO)
    assert table.nodes == ["fc1", "fc2"] and table.values.shape == (2, 41)
    assert grid.steps == list(range(1, 42))
    assert np.isnan(table.values[0]).all() and table.no_gradient[0].all()
    assert table.values[1, 9] == pytest.approx(10 * 1e-4 / 4.0)
    assert not table.no_gradient[1].any()
    assert grid.table(STD).nodes == ["x", "fc1", "relu", "fc2"]
    assert grid.table(ZEROS).nodes == ["relu"]
    assert not grid.table(STD).no_gradient.any()  # a frozen layer still has outputs
    assert grid.gradient_states == {"fc1": "frozen"}
    grid.clear()
    assert grid.table(RATIO).values.shape == (0, 0)


def test_the_image_is_grey_where_no_gradient_came_and_its_range_whole_decades():
    grid = LayerGrid()
    grid.add([_record(1, grad=4e-3), _record(2, grad=6e-1)])
    image, low, high = heat_image(grid.table(RATIO), RATIO)
    assert image.shape == (2, 2, 4)
    assert image[0, 0].tolist() == list(NO_GRADIENT)
    assert (low, high) == (-3.0, 0.0)  # 1e-3 and 0.15 of the weights' norm
    assert image[1, 0].tolist() != image[1, 1].tolist()
    assert colour_range(np.array([0.5]), ZEROS) == (0.0, 1.0)
    assert colour_range(np.array([np.nan]), STD) == (-1.0, 0.0)
    assert bar_ticks(-3.0, 0.0, True) == [(-3, "1e-3"), (-2, "1e-2"), (-1, "1e-1"), (0, "1e0")]
    assert bar_ticks(0.0, 1.0, False)[-1] == (1.0, "100%")


def test_each_layer_with_weights_gets_a_colour_by_its_gradient():
    tints = gradient_tints(_record(1, grad=4e-5))  # 1e-5 of its weights: vanishing
    assert set(tints) == {"fc1", "fc2"}
    assert tints["fc1"][0].getRgb() == NO_GRADIENT and "none (frozen)" in tints["fc1"][1]
    assert tints["fc2"][0].getRgb()[:3] == (44, 123, 182)  # blue: the scale's low end
    assert tints["fc2"][1] == "gradient / weights 1.0e-05"
    assert gradient_tints(_record(1, grad=float("inf")))["fc2"][0].getRgb()[:3] == (215, 25, 28)


# --- in the window ----------------------------------------------------------------------


def _node_id(window, label: str) -> str:
    return next(n.id for n in window.document.graph.nodes.values() if n.label == label)


def _fills(window) -> dict[str, tuple]:
    scene = window.canvas.scene()
    labels = {n.id: n.label for n in window.document.graph.nodes.values()}
    return {labels[i.node_id]: i.fill_colour().getRgb() for i in scene.node_items()}


def _action(window, text: str) -> QAction:
    return next(a for a in window.findChildren(QAction) if a.text().replace("&", "") == text)


def test_a_run_fills_the_layers_view_and_colours_the_canvas_live(window, qtbot, tmp_path):
    controller = saved_preset(window, tmp_path, "digits_mlp", epochs=2, record_every=5)
    fc1, fc2 = _node_id(window, "fc1"), _node_id(window, "fc2")
    window.document.push(SetTuning([fc1], frozen=True))
    view = window.training.layers
    colour = _action(window, "Colour Layers by Gradient")
    colour.trigger()
    records = []
    controller.layer_records.connect(records.extend)
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS):
        click(qtbot, button(window, "trainButton"))
    window.training.tabs.setCurrentWidget(view)  # drawn once it shows
    assert len(records) > 5
    assert view.table.nodes == [fc1, fc2]
    assert view.image.image.shape == (2, len(records), 4)
    assert view.steps_axis.steps == [r["step"] for r in records]
    assert (view.image.image[0] == NO_GRADIENT).all()  # fc1 is frozen: grey, no number
    assert view.row_names == ["fc1 (frozen)", "fc2"]
    assert view.describe(0, 0).endswith("gradient / weights (norms) frozen")
    assert view.describe(2, 1).startswith(f"fc2, step {records[2]['step']} (epoch 1): ")
    assert view.describe(-3, 0) == " "

    ratio_image = view.image.image.copy()
    view.combo.setCurrentIndex(QUANTITIES.index(STD))
    assert len(view.table.nodes) > 2 and view.image.image.shape[0] == len(view.table.nodes)
    assert view.image.image.shape != ratio_image.shape or (view.image.image != ratio_image).any()
    view.combo.setCurrentIndex(QUANTITIES.index(UPDATE))
    assert not (view.image.image[1] == ratio_image[1]).all()

    fills = _fills(window)
    assert fills["fc1"] == style.tint(QColor(*NO_GRADIENT), style.GRADIENT_SHADE).getRgb()
    assert fills["fc2"] != style.NODE_FILL.getRgb() and fills["relu1"] == style.NODE_FILL.getRgb()
    assert "gradient / weights " in window.canvas.scene().node_item(fc2).toolTip()
    colour.trigger()  # off: as usual
    assert set(_fills(window).values()) == {style.NODE_FILL.getRgb()}
    assert "gradient / weights" not in window.canvas.scene().node_item(fc2).toolTip()
    colour.trigger()
    assert _fills(window)["fc2"] == fills["fc2"]

    first_run = len(records)
    at_start = []
    controller.started.connect(
        lambda _plan: at_start.append((len(view.grid.steps), _fills(window)["fc2"]))
    )
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS):
        click(qtbot, button(window, "trainButton"))
    assert at_start == [(0, style.NODE_FILL.getRgb())]  # both start afresh
    assert view.image.image.shape[1] == len(records) - first_run
    assert _fills(window)["fc2"] != style.NODE_FILL.getRgb()

    runs = window.training.runs_table
    assert runs.table.rowCount() == 2
    runs.table.selectRow(1)  # the first run, from its layers.csv
    qtbot.waitUntil(lambda: view.title.text() == "Run 1, from its layers.csv", timeout=10_000)
    assert view.image.image.shape == (2, first_run, 4)
    assert view.grid.steps == [r["step"] for r in records[:first_run]]


def test_a_run_without_records_says_so_and_another_project_clears_the_view(window, qtbot, tmp_path):
    controller = saved_preset(window, tmp_path, "digits_mlp", epochs=1, record_every=0)
    view = window.training.layers
    window.training.tabs.setCurrentWidget(view)
    with qtbot.waitSignal(controller.finished, timeout=RUN_MS):
        click(qtbot, button(window, "trainButton"))
    assert view.table.values.shape == (0, 0) and view.title.text() == "The run trained last"
    window.training.runs_table.table.selectRow(0)
    qtbot.waitUntil(lambda: "kept no layer records" in view.title.text(), timeout=10_000)
    (tmp_path / "digits_mlp.runs" / "run-001" / "layers.csv").write_text("not,a,layers,file\n1\n")
    window.training.runs_table.table.clearSelection()
    window.training.runs_table.table.selectRow(0)  # picked again: read again
    qtbot.waitUntil(lambda: "Cannot read the layer records" in view.title.text(), timeout=10_000)
    assert "is not a layers.csv Torchwright wrote" in view.title.text()
    assert window.files.open_preset("digits_mlp")
    assert view.title.text().startswith("No layer records yet")
