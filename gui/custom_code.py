"""Asking before an action runs Custom layer code that came with the file.

Export Code, Train, Resume, Load Weights, a run's Export and Try It run the code; when
the document's decision (`Document.trust`) does not let it run, the action asks first and
goes on only on Yes, which allows the file's code for as long as the file stays open,
as Edit > Run Custom Layer Code does.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from engine.document.trust import joined
from gui.document import Document

TITLE = "Run Custom layer code?"


def allowed_to_run(document: Document, parent: QWidget, refused: list[str] | None = None) -> bool:
    """True when the action may go on: none of `refused` (default: the model's Custom
    layers whose code may not run now) is left, or the user allowed the file's code now."""
    refused = document.refused_custom_layers() if refused is None else refused
    if not refused:
        return True
    source = f"the file {document.path.name}" if document.path else "the file it came from"
    layers = joined(repr(name) for name in refused)
    answer = QMessageBox.question(
        parent,
        TITLE,
        f"This project's Custom layers hold code from {source} ({layers}). "
        "This action runs it, and it can do whatever your programs can: read it first "
        "(the Inspector shows a selected layer's code).\n\nRun it?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    if answer != QMessageBox.StandardButton.Yes:
        return False
    document.allow_custom_code(True)
    return True
