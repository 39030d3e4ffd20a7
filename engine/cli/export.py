"""`python main.py export PROJECT --out DIR`: write the model's source to DIR/model.py."""

from __future__ import annotations

import sys
from pathlib import Path

from engine.build import BuildError, load_class
from engine.codegen import CodegenError, generate
from engine.files import atomic_write_text
from engine.project import ProjectError, load


def run(project_file: str, out_dir: str) -> int:
    try:
        project = load(project_file)
    except ProjectError as exc:
        return _fail(f"{project_file}: {exc}")
    except OSError as exc:
        return _fail(f"{project_file}: cannot read: {exc.strerror or exc}")
    try:
        code = generate(project.graph, project.name)
        load_class(code.source)
    except (CodegenError, BuildError) as exc:
        return _fail(f"{project_file}: the model cannot be exported: {exc}")
    except Exception as exc:  # a Custom layer's own code failed
        return _fail(f"{project_file}: the model's code fails to run: {type(exc).__name__}: {exc}")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        target = atomic_write_text(out / "model.py", code.source)
    except OSError as exc:
        return _fail(f"{out}: cannot write: {exc.strerror or exc}")
    print(f"wrote {target} (class {code.class_name})")
    return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1
