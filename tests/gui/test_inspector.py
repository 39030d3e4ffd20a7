"""The inspector as a user meets it: select a node, type, press Enter, undo."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel

from engine.document.commands import SetParams
from engine.document.project import load
from engine.layers import get_spec
from engine.layers.custom import TEMPLATE
from engine.model.shapes import DataShapes, ShapeInference
from gui.document import Document
from gui.inspector import Inspector
from gui.inspector.values import ParseError, format_value, parse_value
from tests.gui.widget_helpers import shown
from tests.paths import PRESETS

SELECT_ALL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def inspector(qtbot, document):
    return shown(qtbot, Inspector(document), 320, 700)


def build(document: Document, *layers: str | tuple[str, dict]) -> list[str]:
    """Add layers one after another (each wired after the last), as the palette does."""
    ids: list[str] = []
    for layer in layers:
        layer_type, params = (layer, {}) if isinstance(layer, str) else layer
        node_id = document.add_layer(layer_type, (len(ids) * 220.0, 0.0), ids[-1] if ids else None)
        if params:
            assert document.push(SetParams(node_id, params))
        ids.append(node_id)
    return ids


def retype(qtbot, widget, text: str) -> None:
    """Select what the field holds, type `text` over it and press Enter."""
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, SELECT_ALL)
    qtbot.keyClick(widget, Qt.Key.Key_Delete)
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def editor(inspector: Inspector, name: str):
    return inspector.form.fields[name].editor


def error_of(inspector: Inspector, name: str) -> str:
    label = inspector.form.fields[name].error
    return label.text() if label.isVisibleTo(inspector) else ""


def test_typing_a_value_and_enter_is_one_undoable_edit(qtbot, inspector, document):
    _, fc = build(document, ("Input", {"shape": [784]}), "Linear")
    document.select([fc])
    spin = editor(inspector, "out_features").inner.spin
    assert spin.value() == 64
    retype(qtbot, spin, "120")
    assert document.graph.nodes[fc].params["out_features"] == 120
    assert document.inference.results[fc].output.shape == (2, 120)
    assert document.undo_stack.count() == 4  # three edits to build, one here

    document.undo_stack.undo()
    assert document.graph.nodes[fc].params["out_features"] == 64
    assert spin.value() == 64
    assert document.undo_stack.count() == 4, "refreshing the form pushes nothing"


def test_a_number_out_of_bounds_is_explained_at_the_field(qtbot, inspector, document):
    _, fc = build(document, "Input", "Linear")
    document.select([fc])
    spin = editor(inspector, "out_features").inner.spin
    retype(qtbot, spin, "0")
    assert error_of(inspector, "out_features") == (
        "out_features: must be a positive integer, got 0"
    )
    assert document.graph.nodes[fc].params["out_features"] == 64
    assert spin.value() == 64
    retype(qtbot, spin, "65")
    assert error_of(inspector, "out_features") == ""


def test_the_form_shows_shapes_parameter_count_and_summary(inspector, document):
    _, fc = build(document, ("Input", {"shape": [784]}), ("Linear", {"out_features": 10}))
    document.select([fc])
    text = inspector.form.facts.text()
    assert "[N, 784] from x" in text and "[N, 10]" in text and "7,850" in text
    summaries = [label.text() for label in inspector.form.findChildren(QLabel)]
    assert "y = x W^T + b over the last dimension (a fully connected layer)." in summaries
    assert editor(inspector, "out_features").toolTip().startswith("Size of the output; auto")


def test_a_bad_shape_is_refused_at_the_field(qtbot, inspector, document):
    (x,) = build(document, ("Input", {"shape": [1, 28, 28]}))
    document.select([x])
    field = editor(inspector, "shape").inner.edit
    assert field.text() == "1, 28, 28"
    retype(qtbot, field, "1, 0, 28")
    assert "shape: must be a list of positive integers, got [1, 0, 28]" in error_of(
        inspector, "shape"
    )
    retype(qtbot, field, "abc")
    assert error_of(inspector, "shape") == (
        "Enter whole numbers separated by commas, like 1, 28, 28."
    )
    assert document.graph.nodes[x].params["shape"] == [1, 28, 28]
    assert document.undo_stack.count() == 2

    retype(qtbot, field, "3 x 32 x 32")
    assert document.graph.nodes[x].params["shape"] == [3, 32, 32]
    assert error_of(inspector, "shape") == ""
    assert field.text() == "3, 32, 32"


def test_an_inferred_parameter_shows_auto_and_can_be_overridden(qtbot, inspector, document):
    _, fc = build(document, ("Input", {"shape": [400]}), "Linear")
    document.select([fc])
    auto = editor(inspector, "in_features")
    assert auto.auto.isChecked()
    assert auto.inner.spin.text() == "auto (400)"
    assert not auto.inner.spin.isEnabled()

    qtbot.mouseClick(auto.auto, Qt.MouseButton.LeftButton)  # untick: pin 400
    assert document.graph.nodes[fc].params["in_features"] == 400
    assert auto.inner.spin.isEnabled() and auto.inner.spin.value() == 400
    retype(qtbot, auto.inner.spin, "300")
    assert document.graph.nodes[fc].params["in_features"] == 300
    problem = inspector.form.problem
    assert problem.isVisibleTo(inspector)
    assert "in_features is set to 300, but the input [N, 400] needs 400" in problem.text()

    qtbot.mouseClick(auto.auto, Qt.MouseButton.LeftButton)  # auto again
    assert document.graph.nodes[fc].params["in_features"] is None
    assert auto.inner.spin.text() == "auto (400)"
    assert not problem.isVisibleTo(inspector)


def test_values_that_follow_the_data_say_so_and_can_be_pinned(qtbot, inspector, document):
    x, fc, _ = build(document, "Input", "Linear", "Output")
    document.push(SetParams(fc, {"out_features": None}))
    document.select([x])
    shape = editor(inspector, "shape")
    assert shape.auto.isChecked() and shape.inner.edit.placeholderText() == "auto (from data)"
    document.follow_data(DataShapes((64,), {"out": 10}))
    assert shape.inner.edit.placeholderText() == "auto (from data: 64)"
    document.select([fc])
    units = editor(inspector, "out_features")
    assert units.inner.spin.text() == "auto (from data: 10)"
    assert "the data" in units.auto.toolTip()
    qtbot.mouseClick(units.auto, Qt.MouseButton.LeftButton)  # untick: pin 10
    assert document.graph.nodes[fc].params["out_features"] == 10


def test_a_list_parameter_can_be_inferred_too(inspector, document):
    _, norm = build(document, ("Input", {"shape": [8, 32]}), "LayerNorm")
    document.select([norm])
    auto = editor(inspector, "normalized_shape")
    assert auto.inner.edit.placeholderText() == "auto (32)"
    auto.auto.click()
    assert document.graph.nodes[norm].params["normalized_shape"] == [32]
    assert auto.inner.edit.text() == "32"


def test_check_box_and_choice_editors(qtbot, inspector, document):
    _, fc, gelu = build(document, "Input", "Linear", "GELU")
    document.select([fc])
    bias = editor(inspector, "bias").findChild(QCheckBox)
    qtbot.mouseClick(bias, Qt.MouseButton.LeftButton)
    assert document.graph.nodes[fc].params["bias"] is False

    document.select([gelu])
    combo = editor(inspector, "approximate").findChild(QComboBox)
    assert combo.currentText() == "none"
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert document.graph.nodes[gelu].params["approximate"] == "tanh"
    document.undo_stack.undo()
    assert combo.currentText() == "none"


def test_floats_sizes_and_optional_values(qtbot, inspector, document):
    _, conv, pool, drop = build(
        document, ("Input", {"shape": [1, 28, 28]}), "Conv2d", "MaxPool2d", "Dropout"
    )
    document.select([conv])
    retype(qtbot, editor(inspector, "kernel_size").edit, "3, 5")
    assert document.graph.nodes[conv].params["kernel_size"] == [3, 5]
    retype(qtbot, editor(inspector, "kernel_size").edit, "3, 5, 7")
    assert error_of(inspector, "kernel_size").startswith("kernel_size: must be a positive")

    document.select([pool])
    stride = editor(inspector, "stride").edit
    assert stride.text() == "" and stride.placeholderText() == "none"
    retype(qtbot, stride, "1")
    assert document.graph.nodes[pool].params["stride"] == 1
    retype(qtbot, stride, "")
    assert document.graph.nodes[pool].params["stride"] is None

    document.select([drop])
    p = editor(inspector, "p").edit
    retype(qtbot, p, "1.5")
    assert error_of(inspector, "p") == "p: must be a number between 0 and 1, got 1.5"
    retype(qtbot, p, "2.5e-1")
    assert document.graph.nodes[drop].params["p"] == 0.25
    assert p.text() == "0.25"


def test_an_optional_integer_reads_none_below_its_minimum(qtbot, inspector, document):
    (emb,) = build(document, "Embedding")
    document.select([emb])
    spin = editor(inspector, "padding_idx").spin
    assert spin.text() == "none"
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_Up)
    assert document.graph.nodes[emb].params["padding_idx"] == 0
    qtbot.keyClick(spin, Qt.Key.Key_Down)
    assert document.graph.nodes[emb].params["padding_idx"] is None


def test_renaming_the_label(qtbot, inspector, document):
    _, fc, _ = build(document, "Input", "Linear", "Linear")
    document.select([fc])
    label = inspector.form.label_field.editor
    assert label.text() == "fc1"
    retype(qtbot, label, "Hidden Layer")
    assert document.graph.nodes[fc].label == "Hidden_Layer"
    assert label.text() == "Hidden_Layer"
    retype(qtbot, label, "")
    assert "A label is required" in inspector.form.label_field.error.text()
    assert document.graph.nodes[fc].label == "Hidden_Layer"
    document.undo_stack.undo()
    assert label.text() == "fc1"


def test_custom_source_is_applied_with_the_button(qtbot, inspector, document):
    (custom,) = build(document, "Custom")
    document.select([custom])
    field = editor(inspector, "source")
    assert field.editor.toPlainText() == TEMPLATE
    assert not field.apply.isEnabled()
    field.editor.moveCursor(field.editor.textCursor().MoveOperation.End)
    qtbot.keyClick(field.editor, Qt.Key.Key_Return)
    qtbot.keyClicks(field.editor, "SCALE = 2")
    assert field.apply.isEnabled()
    qtbot.mouseClick(field.apply, Qt.MouseButton.LeftButton)
    assert document.graph.nodes[custom].params["source"] == TEMPLATE + "\nSCALE = 2"
    assert error_of(inspector, "source") == ""

    field.editor.setFocus()
    qtbot.keyClicks(field.editor, "(")
    field.editor.clearFocus()  # focus-out applies too
    assert document.graph.nodes[custom].params["source"].endswith("SCALE = 2(")
    assert error_of(inspector, "source").startswith("The source has a syntax error on line")


def test_the_code_editor_indents_with_four_spaces(qtbot, inspector, document):
    (custom,) = build(document, "Custom")
    document.select([custom])
    code = editor(inspector, "source").editor
    code.clear()
    qtbot.keyClicks(code, "def f(x):")
    qtbot.keyClick(code, Qt.Key.Key_Return)
    qtbot.keyClicks(code, "return x")
    qtbot.keyClick(code, Qt.Key.Key_Return)
    qtbot.keyClick(code, Qt.Key.Key_Tab)
    assert code.toPlainText() == "def f(x):\n    return x\n        "
    qtbot.keyClick(code, Qt.Key.Key_Backtab)
    assert code.toPlainText() == "def f(x):\n    return x\n    "


def test_hints_for_no_selection_several_and_removed_nodes(inspector, document):
    assert inspector.hint.isVisible()
    a, b = build(document, "Input", "Linear")
    document.select([a, b])
    assert inspector.hint.text() == "2 layers selected: select one to edit its parameters."
    document.select([b])
    assert inspector.form is not None and inspector.scroll.isVisible()
    document.undo_stack.undo()  # removes the Linear
    assert inspector.form is None and inspector.hint.isVisible()


def test_before_the_engine_is_ready_the_form_says_so(qtbot):
    document = Document()
    widget = Inspector(document)
    qtbot.addWidget(widget)
    node_id = document.add_layer("Linear", (0.0, 0.0))
    document.select([node_id])
    assert "will appear when the engine is ready" in widget.form.facts.text()
    assert editor(widget, "in_features").inner.spin.text() == "auto (?)"
    document.attach_inference(ShapeInference(document.graph))
    assert "not connected" in widget.form.facts.text()
    assert widget.form.problem.text() == "Linear needs 1 input wire; it has 0."


def test_typing_then_selecting_another_node_commits_to_the_first(qtbot, inspector, document):
    _, fc1, fc2 = build(document, "Input", "Linear", "Linear")
    document.select([fc1])
    spin = editor(inspector, "out_features").inner.spin
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_A, SELECT_ALL)
    qtbot.keyClicks(spin, "32")  # no Enter: the user clicks another node instead
    document.select([fc2])
    assert document.graph.nodes[fc1].params["out_features"] == 32
    assert document.graph.nodes[fc2].params["out_features"] == 64
    assert editor(inspector, "out_features").inner.spin.value() == 64


def test_opening_another_project_drops_the_form(inspector, document):
    (x,) = build(document, "Input")
    document.select([x])
    form = inspector.form
    document.set_project(load(PRESETS / "digits_mlp.json"))
    assert inspector.form is None and inspector.hint.isVisible()
    form.fields["shape"].editor.committed.emit([3])  # a late commit from the old form
    assert document.graph.nodes["n1"].params["shape"] == [64]
    assert document.undo_stack.count() == 0


@pytest.mark.parametrize(
    ("layer", "name", "text", "value"),
    [
        ("Conv2d", "kernel_size", "3", 3),
        ("Conv2d", "kernel_size", "(3, 5)", [3, 5]),
        ("Input", "shape", "1 x 28 x 28", [1, 28, 28]),
        ("Reshape", "shape", "-1, 7, 7", [-1, 7, 7]),
        ("LayerNorm", "normalized_shape", "[64]", [64]),
        ("Dropout", "p", " 1e-5 ", 1e-5),
        ("Custom", "class_name", "Gate", "Gate"),
        ("MaxPool2d", "stride", "", None),
    ],
)
def test_field_text_reads_as_values_and_back(layer, name, text, value):
    param = get_spec(layer).param(name)
    assert parse_value(param, text) == value
    assert parse_value(param, format_value(value)) == value


def test_text_that_is_not_a_number_says_what_to_type():
    with pytest.raises(ParseError, match=r"Enter a number, like 0.5 or 1e-5 \('half' is not"):
        parse_value(get_spec("Dropout").param("p"), "half")
    with pytest.raises(ParseError, match="Enter whole numbers separated by commas, like 3 or 3, 5"):
        parse_value(get_spec("Conv2d").param("stride"), "2.5")
