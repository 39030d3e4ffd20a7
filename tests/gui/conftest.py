"""GUI test fixtures: a document with live shape inference, built as the app builds it."""

import pytest

from engine.shapes import ShapeInference
from gui.document import Document


@pytest.fixture
def document(qtbot):
    doc = Document()
    doc.attach_inference(ShapeInference(doc.graph))
    return doc
