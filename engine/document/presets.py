"""Where the bundled presets live, the one place that knows.

An installed wheel carries the repository's top-level `presets/` as the package data
`engine/preset_files/` (pyproject.toml maps the folder there), found through
importlib.resources; a checkout has no such folder inside `engine/` and uses the
repository's `presets/` itself. Presets are templates: the app opens them as unsaved
copies and never writes into their folder. No torch here, like the rest of the document.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from engine.document.project import Project

PACKAGE_DATA = "preset_files"


def presets_folder() -> Path:
    """The folder of the bundled preset files."""
    package = resources.files("engine")
    bundled = package / PACKAGE_DATA
    if bundled.is_dir():
        return Path(str(bundled))
    return Path(str(package)).parent / "presets"


def preset_names() -> list[str]:
    """The file stems of the bundled presets, sorted."""
    return sorted(path.stem for path in presets_folder().glob("*.json"))


def preset_path(name: str) -> Path:
    """The file of the bundled preset `name` (a file stem such as "digits_mlp")."""
    return presets_folder() / f"{name}.json"


def in_presets_folder(path: str | Path) -> bool:
    """Whether `path` is (or would be) a file in the bundled presets' folder."""
    return Path(path).resolve().is_relative_to(presets_folder().resolve())


def unsaved_copy(project: Project, source: str | Path) -> Project:
    """`project`, read from the file `source`, as unsaved work of its own: no path, and a
    relative data path made absolute from the file's folder, so the copy still finds
    the data a preset ships beside it."""
    path = project.data.get("path")
    if path and not Path(path).expanduser().is_absolute():
        project.data["path"] = str((Path(source).resolve().parent / path).resolve())
    project.path = None
    return project
