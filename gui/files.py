"""Opening, saving, recent files, presets and crash recovery for the main window.

A file that cannot be opened opens nothing: the current document stays, and a message
says what is wrong and where. Presets are templates: one opened (from the gallery, or a
file in the presets' folder) becomes an unsaved copy, and nothing is ever saved there.
Unsaved work is written every 30 s to a recovery file, which the next start offers back
when the app did not close normally.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, QStandardPaths, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from engine.document.layout import lay_out, unplaced
from engine.document.presets import in_presets_folder, preset_path, unsaved_copy
from engine.document.project import Project, ProjectError, load, save

if TYPE_CHECKING:
    from gui.document import Document

FILTER = "Torchwright projects (*.json);;All files (*)"
MAX_RECENT = 8
AUTOSAVE_MS = 30_000


def recovery_path() -> Path:
    folder = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))
    return folder / "recovery.json"


class FileController(QObject):
    recent_changed = Signal(list)
    notice = Signal(str)  # something the status bar should say

    def __init__(self, window: QWidget, document: Document, settings: QSettings):
        super().__init__(window)
        self.window = window
        self.document = document
        self.settings = settings
        self.autosave = QTimer(self, interval=AUTOSAVE_MS)
        self.autosave.timeout.connect(self.write_recovery)
        self.autosave.start()

    # --- asking the user (tests replace these) ---------------------------------------------

    def ask_unsaved(self) -> str:
        """'save', 'discard' or 'cancel'."""
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self.window,
            "Unsaved changes",
            f"Save the changes to {self.document.project.name}?",
            buttons.Save | buttons.Discard | buttons.Cancel,
        )
        return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")

    def ask_open_path(self) -> str:
        return QFileDialog.getOpenFileName(self.window, "Open project", self.folder(), FILTER)[0]

    def ask_save_path(self) -> str:
        name = f"{self.document.project.name}.json"
        start = str(Path(self.folder()) / name)
        return QFileDialog.getSaveFileName(self.window, "Save project", start, FILTER)[0]

    def ask_restore(self) -> bool:
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self.window,
            "Restore unsaved work?",
            "Torchwright did not close normally last time. Restore the unsaved work?",
            buttons.Yes | buttons.No,
        )
        if answer != buttons.Yes:
            self.discard_recovery()
        return answer == buttons.Yes

    def show_error(self, title: str, message: str) -> None:
        QMessageBox.warning(self.window, title, message)

    # --- commands ---------------------------------------------------------------------

    def new(self) -> bool:
        if not self.maybe_save():
            return False
        self.document.set_project(Project())
        return True

    def open(self, path: str | Path | None = None) -> bool:
        """Open a project file (laid out if written without positions); on any problem
        keep the current document and say why. A preset's file opens as an unsaved copy."""
        path = path or self.ask_open_path()
        if not path or not self.maybe_save():
            return False
        try:
            project = load(path)
        except ProjectError as exc:
            self.show_error("Cannot open project", f"{path} is not a valid project:\n\n{exc}")
            return False
        except OSError as exc:
            self.show_error("Cannot open project", f"{path}: {exc.strerror or exc}")
            return False
        if unplaced(project.graph):
            lay_out(project.graph)
        if in_presets_folder(path):
            # said first: a more pressing word on the project (Custom code) replaces it
            self.notice.emit(f"{Path(path).name} is a preset: this is an unsaved copy of it")
            self._open_copy(project, Path(path))
            return True
        self.document.set_project(project)
        self.add_recent(Path(path))
        return True

    def open_preset(self, name: str) -> bool:
        """Start a new, unsaved project from a preset."""
        if not self.maybe_save():
            return False
        self._open_copy(load(preset_path(name)), preset_path(name))
        return True

    def _open_copy(self, project: Project, source: Path) -> None:
        """Show `project` (read from `source`) as unsaved work of its own: until it is
        saved elsewhere its runs stay in a temporary folder, and Save asks where."""
        self.document.set_project(unsaved_copy(project, source))

    def save(self) -> bool:
        path = self.document.path
        return self.save_as() if path is None else self._write(path)

    def save_as(self) -> bool:
        path = self.ask_save_path()
        if not path:
            return False
        path = Path(path)
        path = path if path.suffix else path.with_suffix(".json")
        if in_presets_folder(path):
            self.show_error(
                "Cannot save project",
                f"{path.parent} holds Torchwright's presets, which stay as they are: "
                "save the project in another folder.",
            )
            return False
        return self._write(path)

    def maybe_save(self) -> bool:
        """True when it is fine to replace the current document."""
        if not self.document.modified:
            return True
        answer = self.ask_unsaved()
        if answer == "save":
            return self.save()
        if answer == "discard":
            self.discard_recovery()  # a crash later must not offer back what was thrown away
        return answer == "discard"

    def _write(self, path: Path) -> bool:
        try:
            save(self.document.project, path)
        except (OSError, ValueError) as exc:
            self.show_error(
                "Cannot save project", f"{path}: {getattr(exc, 'strerror', None) or exc}"
            )
            return False
        self.document.mark_saved(path)
        self.add_recent(path)
        self.discard_recovery()
        return True

    def folder(self) -> str:
        recent = self.recent()
        return str(Path(recent[0]).parent) if recent else str(Path.home())

    # --- recent files -----------------------------------------------------------------

    def recent(self) -> list[str]:
        value = self.settings.value("recent", [])
        return [str(v) for v in (value if isinstance(value, list) else [value]) if v]

    def add_recent(self, path: Path) -> None:
        entry = str(Path(path).resolve())
        paths = [entry] + [p for p in self.recent() if p != entry]
        self.settings.setValue("recent", paths[:MAX_RECENT])
        self.recent_changed.emit(paths[:MAX_RECENT])

    # --- crash recovery ---------------------------------------------------------------

    def write_recovery(self) -> None:
        if not self.document.modified:
            return
        target = recovery_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        project = self.document.project
        copy = replace(
            project, ui={**project.ui, "recovered_from": str(project.path or "")}, path=None
        )
        try:
            save(copy, target)
        except (OSError, ValueError):
            return  # the next tick tries again; the user's own file is untouched

    def discard_recovery(self) -> None:
        recovery_path().unlink(missing_ok=True)

    def recover(self) -> bool:
        """Open the recovery file left by a crash, as unsaved work; False if there is none
        or it cannot be read (it is then removed)."""
        target = recovery_path()
        if not target.exists():
            return False
        try:
            project = load(target)
        except (ProjectError, OSError):
            self.discard_recovery()
            return False
        origin = project.ui.pop("recovered_from", "")
        project.path = Path(origin) if origin else None
        self.document.set_project(project)
        self.document.mark_modified()
        return True
