"""The code preview follows the graph: debounced, highlighted, problems as comments."""

import pytest
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QPlainTextEdit, QPushButton

from engine.document.commands import SetParams
from engine.document.project import load
from engine.model.shapes import ShapeInference
from gui.code_preview import CodePreview
from gui.document import Document
from gui.highlighter import STYLES, PythonHighlighter
from tests.gui.canvas_helpers import mlp
from tests.gui.widget_helpers import shown
from tests.paths import PRESETS


@pytest.fixture
def preview(qtbot, document):
    return shown(qtbot, CodePreview(document), 700, 500)


def text_of(preview: CodePreview) -> str:
    return preview.editor.toPlainText()


def test_the_visible_editor_is_named_read_only_and_monospace(preview):
    editor = preview.findChild(QPlainTextEdit, "codePreview")
    assert editor is preview.editor
    assert editor.isReadOnly()
    font = editor.font()  # what the app asks for; what the machine gives may differ
    assert font.fixedPitch() and font.styleHint() == QFont.StyleHint.Monospace
    if any(QFontDatabase.isFixedPitch(family) for family in QFontDatabase.families()):
        assert editor.fontInfo().fixedPitch()  # a fixed-pitch font there is the one used


def test_an_empty_graph_shows_the_missing_output_as_a_comment(preview):
    assert text_of(preview).splitlines()[:3] == [
        "# The model cannot be generated yet:",
        "#",
        "# The network has no Output node: add one and wire the last layer into it.",
    ]


def test_a_small_graph_shows_its_model_and_follows_edits(qtbot, preview, document):
    fc2 = mlp(document)[3]
    qtbot.waitUntil(lambda: "self.fc1 = nn.Linear(10, 64)" in text_of(preview))
    assert "self.fc2 = nn.Linear(64, 64)" in text_of(preview)
    document.push(SetParams(fc2, {"out_features": 3}))
    qtbot.waitUntil(lambda: "self.fc2 = nn.Linear(64, 3)" in text_of(preview))


def test_quick_edits_cost_one_regeneration(qtbot, preview, document):
    fc = mlp(document)[1]
    qtbot.waitUntil(lambda: "self.fc1 = nn.Linear(10, 64)" in text_of(preview))
    count = []
    preview.regenerated.connect(lambda: count.append(1))
    with qtbot.waitSignal(preview.regenerated, timeout=2000):
        for size in range(1, 21):
            document.push(SetParams(fc, {"out_features": size}))
    assert count == [1]
    assert "self.fc1 = nn.Linear(10, 20)" in text_of(preview)


def test_a_problem_in_a_node_is_a_comment_naming_it(qtbot, preview, document):
    _, fc1, *_ = mlp(document)
    document.push(SetParams(fc1, {"in_features": 7}))
    qtbot.waitUntil(lambda: "# 'fc1': in_features is set to 7" in text_of(preview))


def test_regeneration_keeps_the_scroll_position(qtbot, preview, document):
    document.set_project(load(PRESETS / "digits_cnn.json"))
    qtbot.waitUntil(lambda: "class DigitsCnn(nn.Module):" in text_of(preview))
    bar = preview.editor.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    kept = bar.value()
    assert kept > 0
    fc2 = next(n.id for n in document.graph.nodes.values() if n.label == "fc2")
    with qtbot.waitSignal(preview.regenerated):
        document.push(SetParams(fc2, {"out_features": 12}))
    assert "nn.Linear(64, 12)" in text_of(preview)
    assert bar.value() == kept


def test_copy_puts_the_code_on_the_clipboard(qtbot, preview, document):
    mlp(document)
    qtbot.waitUntil(lambda: "(nn.Module):" in text_of(preview))
    button = preview.findChild(QPushButton)
    assert button.text() == "Copy"
    button.click()
    assert QGuiApplication.clipboard().text() == text_of(preview)


def test_the_code_is_highlighted(qtbot, preview, document):
    mlp(document)
    qtbot.waitUntil(lambda: "import torch" in text_of(preview))
    line = text_of(preview).splitlines().index("import torch")
    block = preview.editor.document().findBlockByNumber(line)
    colours = {(r.start, r.length): r.format.foreground().color() for r in block.layout().formats()}
    assert colours[(0, 6)] == STYLES["keyword"].foreground().color()  # "import"


def test_before_the_engine_is_ready_it_says_so(qtbot):
    document = Document()
    widget = CodePreview(document)
    qtbot.addWidget(widget)
    assert text_of(widget) == "# The code will appear when the engine is ready.\n"
    document.add_layer("Input", (0.0, 0.0))
    with qtbot.waitSignal(widget.regenerated):
        document.attach_inference(ShapeInference(document.graph))
    assert "# The network has no Output node" in text_of(widget)


def colours_by_line(source: str) -> list[dict[str, str]]:
    """Highlight `source`; for each line, the colour of each coloured piece of text."""
    editor = QPlainTextEdit()
    PythonHighlighter(editor.document())
    editor.setPlainText(source)
    found = []
    for number, line in enumerate(source.splitlines()):
        block = editor.document().findBlockByNumber(number)
        found.append(
            {
                line[r.start : r.start + r.length]: r.format.foreground().color().name()
                for r in block.layout().formats()
            }
        )
    return found


def test_strings_and_comments_do_not_fool_each_other():
    colour = {name: fmt.foreground().color().name() for name, fmt in STYLES.items()}
    lines = colours_by_line(
        's = "a # b" + f\'{x}\'  # it\'s "quoted"\n'
        '"""doc\n'
        "def inside\n"
        '"""\n'
        "@property\n"
        "def f(self): return 0x1F + 1e-5\n"
    )
    assert lines[0] == {
        '"a # b"': colour["string"],
        "f'{x}'": colour["string"],
        '# it\'s "quoted"': colour["comment"],
    }
    assert lines[1] == {'"""doc': colour["string"]}
    assert lines[2] == {"def inside": colour["string"]}, "still in the docstring"
    assert lines[3] == {'"""': colour["string"]}
    assert lines[4] == {"@property": colour["decorator"]}
    assert lines[5] == {
        "def": colour["keyword"],
        "f": colour["definition"],
        "self": colour["self"],
        "return": colour["keyword"],
        "0x1F": colour["number"],
        "1e-5": colour["number"],
    }
