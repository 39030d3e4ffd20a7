"""The training settings of the project as forms: data, training and one loss per output.

Every field is made from the setting's `Param` (engine/document/settings.py), like the inspector's
fields are made from a layer's. A committed value is checked against the schema: a bad
one is explained under its field and never stored; a good one becomes one undoable
`Document.set_setting`. Fields that do not apply to the current choices (a CSV path for a
built-in data set, momentum for Adam) are hidden rather than disabled, so the form only
ever asks what matters.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.document.settings import (
    BUILTIN_DATASETS,
    DATA_SCHEMA,
    FILE_KINDS,
    IMAGE_KINDS,
    LOSS_SCHEMA,
    SYNTHETIC_DATASETS,
    TABLE_FORMS,
    TABLE_KINDS,
    TRAINING_SCHEMA,
)
from engine.layers.params import Param, ParamError
from gui.document import Document
from gui.inspector.editors import ChoiceEditor, ParamEditor, make_editor
from gui.inspector.form import Field
from gui.training.augment_view import AugmentView
from gui.training.data_check import DataCheck
from gui.training.data_preview import DataPreviewView

FOLDER_KINDS = ("idx", "image_folder", "mnist")

# When a data field applies, given the data settings.
DATA_APPLIES: dict[str, Callable[[dict[str, Any]], bool]] = {
    "name": lambda d: d["kind"] in ("builtin", "synthetic"),
    "path": lambda d: d["kind"] in FILE_KINDS,
    "target": lambda d: d["kind"] in (*TABLE_KINDS, *TABLE_FORMS),
    "series_task": lambda d: d["kind"] == "time_series",
    "text_column": lambda d: d["kind"] == "text",
    "vocab_size": lambda d: d["kind"] == "text",
    "min_freq": lambda d: d["kind"] == "text",
    "max_length": lambda d: d["kind"] == "text",
    "window": lambda d: d["kind"] == "time_series" and d["series_task"] == "forecast",
    "horizon": lambda d: d["kind"] == "time_series" and d["series_task"] == "forecast",
    "stride": lambda d: d["kind"] == "time_series" and d["series_task"] == "forecast",
    "categorical": lambda d: d["kind"] in TABLE_KINDS,
    "ignore": lambda d: d["kind"] in (*TABLE_KINDS, "time_series"),
    "missing": lambda d: d["kind"] in TABLE_KINDS,
    "image_column": lambda d: d["kind"] == "image_csv",
    "samples": lambda d: d["kind"] == "synthetic",
    "features": lambda d: d["kind"] == "synthetic" and d["name"] != "multi_target",
    "classes": lambda d: d["kind"] == "synthetic" and d["name"] in ("blobs", "classification"),
    "targets": lambda d: d["kind"] == "synthetic" and d["name"] == "multi_target",
    "noise": lambda d: d["kind"] == "synthetic",
    "weight": lambda d: d["kind"] == "synthetic" and d["name"] == "linear",
    "bias": lambda d: d["kind"] == "synthetic" and d["name"] == "linear",
    "stratify": lambda d: d["val_fraction"] > 0,
    "mean": lambda d: d["normalize"] == "fixed",
    "std": lambda d: d["normalize"] == "fixed",
    "image_size": lambda d: d["kind"] in IMAGE_KINDS,
    "grayscale": lambda d: d["kind"] in IMAGE_KINDS,
    "bad_images": lambda d: d["kind"] in IMAGE_KINDS,
    "generate": lambda d: d["kind"] == "image_folder",
    "image_loading": lambda d: d["kind"] in IMAGE_KINDS,
    "num_workers": lambda d: d["kind"] in IMAGE_KINDS and d["image_loading"] == "stream",
    "prefetch_factor": lambda d: d["kind"] in IMAGE_KINDS and d["image_loading"] == "stream",
    "pin_memory": lambda d: d["kind"] in IMAGE_KINDS and d["image_loading"] == "stream",
    "download": lambda d: d["kind"] == "mnist",
}
TRAINING_APPLIES: dict[str, Callable[[dict[str, Any]], bool]] = {
    "momentum": lambda t: t["optimizer"] in ("SGD", "RMSprop"),
    "nesterov": lambda t: t["optimizer"] == "SGD",
    "step_size": lambda t: t["scheduler"] == "step",
    "gamma": lambda t: t["scheduler"] in ("step", "plateau"),
    "patience": lambda t: t["scheduler"] == "plateau",
}
TRAINING_SHOWN = tuple(p for p in TRAINING_SCHEMA if p.name != "device")  # in the run bar


class SchemaForm(QWidget):
    """One editor per `Param`, bound to the settings under `prefix` in the document."""

    def __init__(
        self,
        document: Document,
        prefix: tuple[str, ...],
        schema: tuple[Param, ...],
        applies: dict[str, Callable[[dict[str, Any]], bool]] | None = None,
        parent: QWidget | None = None,
        shown_without: str = "",
    ):
        """`shown_without`: a prefix the settings' names share, left out of their labels
        (the group's title says it)."""
        super().__init__(parent)
        self.document = document
        self.shown_without = shown_without
        self.prefix = prefix
        self.applies = applies or {}
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.fields: dict[str, Field] = {}
        for param in schema:
            editor = make_editor(param, self)
            editor.setObjectName(f"{'_'.join(prefix)}_{param.name}")
            name = QLabel(self.label(param))
            name.setToolTip(param.help)
            self.fields[param.name] = Field(self.form, name, editor)
            editor.committed.connect(lambda value, p=param: self._commit(p, value))
            editor.rejected.connect(self.fields[param.name].show_error)

    def label(self, param: Param) -> str:
        return param.name.removeprefix(self.shown_without).replace("_", " ")

    def values(self) -> dict[str, Any]:
        return {name: self.document.setting((*self.prefix, name)) for name in self.fields}

    def refresh(self) -> None:
        values = self.values()
        for name, field in self.fields.items():
            field.show_error("")
            field.editor.set_value(values[name])
        self.show_rows(values)

    def show_rows(self, values: dict[str, Any] | None = None) -> None:
        """Show the fields that apply to the settings as they are."""
        values = values or self.values()
        for name, field in self.fields.items():
            rule = self.applies.get(name)
            self.form.setRowVisible(field.editor, rule is None or rule(values))

    def editor(self, name: str) -> ParamEditor:
        return self.fields[name].editor

    def _commit(self, param: Param, value: Any) -> None:
        try:
            value = param.validate(value)
        except ParamError as exc:
            self.fields[param.name].show_error(f"{self.label(param)} {exc}")
            return
        if not self.document.set_setting((*self.prefix, param.name), value):
            self.refresh()  # unchanged or refused: show what is stored


class DataForm(SchemaForm):
    """The data settings; the data set list follows the kind, and paths can be browsed.
    Once the data is previewed, the split's fields hide for data with its own validation
    files, and stratify for regression data."""

    def __init__(self, document: Document, data_check: DataCheck, parent: QWidget | None = None):
        applies = {
            **DATA_APPLIES,
            "val_fraction": self._split_applies,
            "stratify": self._stratify_applies,
        }
        super().__init__(document, ("data",), DATA_SCHEMA, applies, parent)
        self.check = data_check
        data_check.changed.connect(lambda: self.show_rows())  # keeps what is being typed
        self.browse = QPushButton("Browse...", self)
        self.browse.setObjectName("browseData")
        self.browse.setToolTip("Pick the data file or folder")
        self.browse.clicked.connect(self._browse)
        self.fields["path"].editor.layout().addWidget(self.browse)

    def _commit(self, param: Param, value: Any) -> None:
        """A kind whose data set list lacks the current name takes its first one too,
        in the same undo step, so the settings never name a set the kind does not have."""
        names = {"builtin": BUILTIN_DATASETS, "synthetic": SYNTHETIC_DATASETS}.get(value)
        current = self.document.setting(("data", "name"))
        if param.name != "kind" or names is None or current in names:
            super()._commit(param, value)
            return
        stack = self.document.undo_stack
        stack.beginMacro(f"Set data kind to {value}")
        super()._commit(param, value)
        self.document.set_setting(("data", "name"), names[0])
        stack.endMacro()

    def refresh(self) -> None:
        names = self.editor("name")
        assert isinstance(names, ChoiceEditor)
        kind = self.document.setting(("data", "kind"))
        wanted = SYNTHETIC_DATASETS if kind == "synthetic" else BUILTIN_DATASETS
        if [names.combo.itemData(i) for i in range(names.combo.count())] != list(wanted):
            with QSignalBlocker(names.combo):
                names.combo.clear()
                for choice in wanted:
                    names.combo.addItem(choice, choice)
        super().refresh()

    def _split_applies(self, data: dict[str, Any]) -> bool:
        preview = self.check.current()
        return preview is None or not preview.own_validation

    def _stratify_applies(self, data: dict[str, Any]) -> bool:
        preview = self.check.current()
        classes = preview is None or preview.task == "classification"
        return self._split_applies(data) and DATA_APPLIES["stratify"](data) and classes

    def _browse(self) -> None:
        kind = self.document.setting(("data", "kind"))
        start = str(self._base_dir())
        if kind in FOLDER_KINDS:
            chosen = QFileDialog.getExistingDirectory(self, f"{kind} data folder", start)
        else:
            pattern = {
                "npz": "NumPy archives (*.npz)",
                "parquet": "Parquet files (*.parquet *.pq)",
            }.get(kind, "CSV or Parquet files (*.csv *.parquet *.pq)")
            chosen, _ = QFileDialog.getOpenFileName(self, f"{kind} data file", start, pattern)
        if chosen:
            self.set_path(Path(chosen))

    def set_path(self, path: Path) -> None:
        """Use `path`, written relative to the project's folder when it is inside it."""
        base = self._base_dir()
        try:
            shown = path.resolve().relative_to(base.resolve())
        except ValueError:
            shown = path
        self.document.set_setting(("data", "path"), shown.as_posix())

    def _base_dir(self) -> Path:
        path = self.document.path
        return path.parent if path is not None else Path.cwd()


class SettingsForm(QWidget):
    """Data settings with a preview of the data, training and loss settings in titled
    groups; follows undo and new projects."""

    def __init__(self, document: Document, data_check: DataCheck, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("trainingSettings")
        self.document = document
        layout = QVBoxLayout(self)
        self.data = DataForm(document, data_check)
        self.preview = DataPreviewView(data_check)
        self.cuda = False  # whether this machine has a CUDA GPU (known once torch loads)
        applies = {
            **TRAINING_APPLIES,
            "mixed_precision": self._mixed_precision_applies,
            "threads": self._threads_apply,
        }
        self.training = SchemaForm(document, ("training",), TRAINING_SHOWN, applies)
        self.augmentation = AugmentView(document, data_check)
        self.augmentation_box = _group("Augmentation", self.augmentation)
        layout.addWidget(_group("Data", self.data))
        layout.addWidget(_group("Data preview", self.preview))
        layout.addWidget(self.augmentation_box)
        layout.addWidget(_group("Training", self.training))
        self.losses_box = QGroupBox("Loss per output")
        self.losses_layout = QVBoxLayout(self.losses_box)
        layout.addWidget(self.losses_box)
        layout.addStretch(1)
        self.losses: dict[str, SchemaForm] = {}
        self._no_outputs = QLabel("Add an Output node to choose its loss.")
        self.losses_layout.addWidget(self._no_outputs)
        document.settings_changed.connect(self.refresh)
        document.project_replaced.connect(self.refresh)
        document.inference_updated.connect(self._follow_outputs)
        data_check.changed.connect(self._show_augmentation)
        self.refresh()

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        """The devices this machine has (engine.training.devices.available_devices)."""
        self.cuda = any(value.startswith("cuda") for value, _ in devices)
        self.training.show_rows()

    def _on_cuda(self) -> bool:
        """Whether the run would use a CUDA GPU (the device is set in the run bar)."""
        device = self.document.setting(("training", "device"))
        return device.startswith("cuda") or (device == "auto" and self.cuda)

    def _threads_apply(self, training: dict[str, Any]) -> bool:
        """Threads count on the CPU only."""
        return not (self._on_cuda() or self.document.setting(("training", "device")) == "mps")

    def _mixed_precision_applies(self, training: dict[str, Any]) -> bool:
        """Mixed precision works on CUDA only; the field is shown when the run would use
        a CUDA GPU, or when it is on (so it can be turned off)."""
        return self._on_cuda() or training["mixed_precision"]

    def _show_augmentation(self) -> None:
        self.augmentation_box.setVisible(self.augmentation.applies())

    def refresh(self, *_: Any) -> None:
        self._follow_outputs()
        self._show_augmentation()
        self.data.refresh()
        self.training.refresh()
        for form in self.losses.values():
            form.refresh()

    def _follow_outputs(self, *_: Any) -> None:
        """One loss form per Output node, rebuilt when Outputs come, go or are renamed."""
        labels = self.document.project.output_labels()
        if labels == list(self.losses):
            return
        for form in self.losses.values():
            form.parentWidget().deleteLater()
        self.losses = {}
        for label in labels:
            form = SchemaForm(self.document, ("losses", label), LOSS_SCHEMA)
            form.refresh()
            self.losses[label] = form
            self.losses_layout.addWidget(_group(f"Output {label!r}", form))
        self._no_outputs.setVisible(not labels)


def _group(title: str, content: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.addWidget(content)
    return box
