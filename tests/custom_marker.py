"""A project whose Custom layer leaves a trace whenever its code runs, to prove which
paths run Custom layer code: the class body writes "class" to a marker file when the
source is executed, its forward() writes "forward" each time it is called."""

from __future__ import annotations

from pathlib import Path

from engine.document.graph import Node
from engine.document.project import Project, load, save
from tests.paths import PRESETS


def marked_project(marker: Path) -> Project:
    """The custom_layer preset (iris, one Affine layer), 1 epoch on the CPU, traced into
    `marker`."""
    project = load(PRESETS / "custom_layer.json")
    project.training.update(epochs=1, device="cpu")
    custom = custom_node(project)
    write = f"open({str(marker)!r}, 'a').write"
    source = custom.params["source"].replace(
        "    def __init__", f"    {write}('class\\n')\n\n    def __init__", 1
    )
    custom.params["source"] = source.replace(
        "        return x *", f"        {write}('forward\\n')\n        return x *", 1
    )
    return project


def saved_marked_project(folder: Path) -> tuple[Path, Path]:
    """(project file, marker file) in `folder`."""
    marker = folder / "marker.txt"
    path = folder / "marked.json"
    save(marked_project(marker), path)
    return path, marker


def custom_node(project: Project) -> Node:
    return next(n for n in project.graph.nodes.values() if n.runs_user_code)


def traces(marker: Path) -> list[str]:
    """What has run, in order: "class" and "forward" lines."""
    return marker.read_text().split() if marker.exists() else []
