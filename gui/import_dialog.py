"""File > Import Python Model: a file, one of its nn.Module classes, and the shape of
each forward() argument; the import itself is `engine.importing.import_model`.

A failed import keeps the dialog open with every problem listed (file and line), so
nothing typed is lost.
"""

from __future__ import annotations

import ast
from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

MODULE_BASES = ("Module", "Sequential")


def module_classes(path: Path) -> list[str]:
    """Classes of a Python file that derive from something named *Module or *Sequential,
    found by parsing, not running, the file; every class when none does."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, SyntaxError):
        return []
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    modules = [
        c.name for c in classes if any(_base_name(b).endswith(MODULE_BASES) for b in c.bases)
    ]
    return modules or [c.name for c in classes]


def _base_name(node: ast.expr) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def parse_shapes(text: str) -> list[tuple[int, ...]]:
    """`1,784; 1,10` -> [(1, 784), (1, 10)]; ValueError naming the bad part."""
    shapes = []
    for part in (p.strip() for p in text.split(";")):
        try:
            shapes.append(tuple(int(size) for size in part.split(",")))
        except ValueError:
            raise ValueError(
                f"input shape {part!r}: give whole numbers separated by commas, batch first, "
                "e.g. 1,784; separate the inputs with ;"
            ) from None
    return shapes


class ImportDialog(QDialog):
    """After `exec()` returns Accepted, `result` is the ImportResult."""

    def __init__(self, parent: QWidget | None = None, folder: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Import Python Model")
        self.setObjectName("importDialog")
        self.resize(640, 300)
        self.result = None
        self.folder = folder
        self.path = QLineEdit(objectName="importPath")
        self.path.setPlaceholderText("model.py")
        self.path.editingFinished.connect(self._list_classes)
        browse = QPushButton("Browse...", objectName="importBrowse")
        browse.clicked.connect(self._browse)
        self.class_name = QComboBox(objectName="importClass")
        self.class_name.setEditable(True)
        self.shapes = QLineEdit("1,784", objectName="importShapes")
        self.shapes.setToolTip(
            "The shape of each forward() argument, batch first; several inputs: 1,3,32,32; 1,10"
        )
        self.dtypes = QLineEdit(objectName="importDtypes")
        self.dtypes.setPlaceholderText("float32 for every input")
        self.dtypes.setToolTip("float32 or int64 (token ids) per input, separated by ;")
        self.problems = QLabel(objectName="importProblems")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #b00020")
        file_row = QHBoxLayout()
        file_row.addWidget(self.path)
        file_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("File", file_row)
        form.addRow("Model class", self.class_name)
        form.addRow("Input shapes", self.shapes)
        form.addRow("Input dtypes", self.dtypes)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.import_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.import_button.setText("Import")
        self.import_button.setObjectName("importButton")
        buttons.accepted.connect(self.try_import)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel("Turn a PyTorch nn.Module class into a graph of layers you can edit and train.")
        )
        layout.addLayout(form)
        layout.addWidget(self.problems)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import Python Model", self.folder, "Python files (*.py)"
        )
        if path:
            self.path.setText(path)
            self._list_classes()

    def _list_classes(self) -> None:
        current = self.class_name.currentText()
        names = module_classes(Path(self.path.text().strip()))
        self.class_name.clear()
        self.class_name.addItems(names)
        if current in names:
            self.class_name.setCurrentText(current)

    def try_import(self) -> None:
        """Import; on success accept, else list the problems and stay open."""
        from engine.importing import import_model

        try:
            shapes = parse_shapes(self.shapes.text())
            dtypes = (
                [d.strip() for d in self.dtypes.text().split(";")] if self.dtypes.text() else None
            )
            self.result = import_model(
                self.path.text().strip(), self.class_name.currentText().strip(), shapes, dtypes
            )
        except ValueError as exc:  # a ModelImportError lists every problem, one per line
            self.problems.setText("\n".join(getattr(exc, "problems", [str(exc)])))
            return
        except Exception as exc:  # an importer bug must not take the app down with it
            self.problems.setText(f"the import failed: {type(exc).__name__}: {exc}")
            return
        self.accept()
