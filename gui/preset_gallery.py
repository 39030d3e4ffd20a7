"""The "New from Preset" gallery: every preset with its description."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

PRETRAINED = "Pretrained weights: File > Download Pretrained Weights."


def preset_entries(folder: Path) -> list[tuple[str, str]]:
    """(file stem, description) of every preset, with a line for the published weights
    it can start from; a file that cannot be read is skipped."""
    entries = []
    for path in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            description = str(doc.get("description", ""))
            if doc.get("pretrained"):
                description += "\n" + PRETRAINED
        except (OSError, ValueError, AttributeError):
            continue
        entries.append((path.stem, description))
    return entries


class PresetGallery(QDialog):
    """Pick a preset; `chosen()` is its file stem after `exec()` returns Accepted."""

    def __init__(self, folder: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("New from Preset")
        self.resize(620, 460)
        self.list = QListWidget()
        self.list.setObjectName("presetList")
        self.list.setWordWrap(True)
        self.list.setSpacing(4)
        for stem, description in preset_entries(folder):
            item = QListWidgetItem(f"{stem.replace('_', ' ').capitalize()}\n{description}")
            item.setData(Qt.ItemDataRole.UserRole, stem)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(self.accept)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Start a new project from one of these examples:"))
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def chosen(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None
