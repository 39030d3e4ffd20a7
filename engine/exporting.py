"""Writing the model's source to a folder, for the command line and the app alike."""

from __future__ import annotations

from pathlib import Path

from engine.build import BuildError, load_class
from engine.codegen import GeneratedCode, generate
from engine.files import atomic_write_text
from engine.graph import Graph


def export_model(graph: Graph, title: str, folder: str | Path) -> tuple[Path, GeneratedCode]:
    """Write `folder/model.py` once its source has been run to make sure it builds.

    Raises CodegenError (the graph is not a model), BuildError (the source, e.g. a Custom
    layer's, fails to run) or OSError (the folder cannot be written).
    """
    code = generate(graph, title)
    try:
        load_class(code.source)()
    except Exception as exc:
        raise BuildError(f"the model's code fails to run: {type(exc).__name__}: {exc}") from exc
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(folder / "model.py", code.source), code
