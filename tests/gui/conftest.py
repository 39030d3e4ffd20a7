"""GUI test fixtures: a document with live shape inference, built as the app builds it."""

import pytest

from engine.shapes import ShapeInference
from gui.document import Document


@pytest.fixture
def document(qtbot):
    doc = Document()
    doc.attach_inference(ShapeInference(doc.graph))
    return doc


@pytest.fixture(autouse=True, scope="session")
def _release_clipboard_at_exit():
    yield
    from gui.app import release_clipboard

    release_clipboard()
