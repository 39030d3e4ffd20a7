"""`AugmentView`: the augmentation settings, with a strip of what they do to one sample.

The fields are the `augment_*` data settings (engine.document.settings.AUGMENT_SCHEMA),
each change one undoable edit like any setting. Beside them, the data preview's first
picture as it is and as eight training batches might see it, drawn again at once when
a setting changes (a few small tensor operations, in the window's thread: the data is
not read again). The group shows when the data's samples are pictures, or when some
augmentation is on (so that it can be switched off).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from engine.document.settings import AUGMENT_SCHEMA
from gui.document import Document
from gui.training.data_check import DataCheck
from gui.training.data_preview import picture_pixmap, stacked, warning_label

STRIP_THUMB = 48  # pixels

AUGMENT_APPLIES = {
    "augment_crop_scale": lambda d: d["augment_crop"],
    "augment_crop_ratio": lambda d: d["augment_crop"],
}


class AugmentView(QWidget):
    def __init__(self, document: Document, check: DataCheck, parent: QWidget | None = None):
        super().__init__(parent)
        from gui.training.settings_form import SchemaForm

        self.setObjectName("augmentation")
        self.document = document
        self.check = check
        self.form = SchemaForm(
            document, ("data",), AUGMENT_SCHEMA, AUGMENT_APPLIES, self, shown_without="augment_"
        )
        self.note = QLabel(
            "Training batches only, drawn afresh every epoch; validation, evaluation and "
            "Try It see the images as they are."
        )
        self.note.setWordWrap(True)
        self.strip = QWidget(self)
        self.strip.setObjectName("augmentStrip")
        self._strip = QHBoxLayout(self.strip)
        self._strip.setContentsMargins(0, 0, 0, 0)
        self._strip.setSpacing(2)
        self.error = warning_label("augmentError")
        self.error.hide()
        stacked(self, self.note, self.form, self.strip, self.error)
        check.changed.connect(self.refresh)
        document.settings_changed.connect(self._setting_changed)
        document.project_replaced.connect(self.refresh)
        self.refresh()

    def applies(self) -> bool:
        """Whether the group is worth showing: picture samples, or augmentation on."""
        from engine.data.augment import augmentation_on

        preview = self.check.current()
        pictures = preview is not None and preview.picture is not None
        return pictures or augmentation_on(self.document.project.data)

    def pictures(self) -> list[QLabel]:
        """The strip's pictures in order: the sample as it is, then its augmentations."""
        items = (self._strip.itemAt(i) for i in range(self._strip.count()))
        return [item.widget() for item in items if item.widget() is not None]

    def views(self) -> int:
        """How many augmented versions the strip shows now (beside the sample)."""
        return max(0, len(self.pictures()) - 1)

    def refresh(self, *_: Any) -> None:
        self.form.refresh()
        self._draw_strip()

    def _setting_changed(self, path: tuple[str, ...]) -> None:
        if path[:1] == ("data",) and path[1].startswith("augment_"):
            self.refresh()

    def _draw_strip(self) -> None:
        while self._strip.count():
            item = self._strip.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        preview = self.check.current()
        self.error.hide()
        if preview is None or preview.picture is None:
            self.strip.hide()
            return
        from engine.data.augment import augmentation_on
        from engine.data.preview import augmented_views
        from engine.errors import UserError, one_line

        views = []
        try:
            if augmentation_on(self.document.project.data):
                views = augmented_views(preview, self.document.project.data)
        except UserError as exc:
            self.error.setText(one_line(exc))
            self.error.show()
        low, high = preview.span
        original = (preview.picture - low) / (high - low) if high > low else preview.picture * 0
        self._add(original, "the sample as it is")
        self._strip.addSpacing(10)
        for number, view in enumerate(views, start=1):
            self._add(view, f"augmented, draw {number}")
        self._strip.addStretch(1)
        self.strip.show()

    def _add(self, picture, tip: str) -> None:
        label = QLabel()
        label.setPixmap(picture_pixmap(picture, STRIP_THUMB))
        label.setToolTip(tip)
        self._strip.addWidget(label)
