"""Starting the desktop app."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication


def run(path: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("Torchwright")
    app.setApplicationName("Torchwright")
    from gui.document import close_documents
    from gui.main_window import open_window

    window = open_window(path)
    status = app.exec()
    close_documents()  # their undo histories, before the objects they hold are collected
    del window
    release_clipboard()
    return status


def release_clipboard() -> None:
    """Drop clipboard data this process put there: PySide6 crashes at exit when a
    QMimeData of ours is still on the clipboard as the application is destroyed."""
    from gui.mime import NODES_MIME

    clipboard = QApplication.clipboard()
    data = clipboard.mimeData() if clipboard is not None else None
    if data is not None and data.hasFormat(NODES_MIME):
        clipboard.clear()
