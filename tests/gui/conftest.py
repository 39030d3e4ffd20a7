"""GUI test fixtures: a document with live shape inference, built as the app builds it."""

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QStandardPaths

from engine.document.presets import preset_path
from engine.model.shapes import ShapeInference
from gui import MainWindow
from gui.document import Document, close_documents
from gui.files import recovery_path


@pytest.fixture(autouse=True)
def _documents_closed():
    """After each test, every document still alive is closed, as its window would close
    it: its undo history goes while its commands are whole (see `Document.close`)."""
    yield
    close_documents()


@pytest.fixture
def document(qtbot):
    doc = Document()
    doc.attach_inference(ShapeInference(doc.graph))
    return doc


@pytest.fixture
def own_preset(tmp_path):
    """`own_preset(name)`: a preset copied into the test's folder, a project file of the
    user's own (a preset's own file opens as an unsaved copy)."""

    def copy(name: str) -> Path:
        target = tmp_path / f"{name}.json"
        shutil.copyfile(preset_path(name), target)
        return target

    return copy


@pytest.fixture
def window(qtbot, tmp_path):
    """The main window, shown and active, with its own settings file; file dialogs and
    error boxes are replaced (errors are collected in `window.errors`)."""
    QStandardPaths.setTestModeEnabled(True)
    recovery_path().unlink(missing_ok=True)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings)
    qtbot.addWidget(win)
    win.errors = []
    win.files.show_error = lambda title, message: win.errors.append(message)
    win.files.ask_unsaved = lambda: "discard"  # pytest-qt closes the window after each test
    win.show()
    win.activateWindow()
    qtbot.waitActive(win)  # shortcuts reach the active window only
    yield win
    recovery_path().unlink(missing_ok=True)


@pytest.fixture(autouse=True, scope="session")
def _release_clipboard_at_exit():
    yield
    from gui.app import release_clipboard

    release_clipboard()
