"""`python main.py export PROJECT --out DIR`: write DIR/model.py and DIR/train.py."""

from __future__ import annotations

import sys

from engine.build import BuildError
from engine.codegen import CodegenError
from engine.exporting import export_code
from engine.project import ProjectError, load


def run(project_file: str, out_dir: str) -> int:
    try:
        project = load(project_file)
        exported = export_code(project, out_dir)
    except ProjectError as exc:
        return _fail(f"{project_file}: {exc}")
    except (CodegenError, BuildError) as exc:
        return _fail(f"{project_file}: the model cannot be exported: {exc}")
    except OSError as exc:
        return _fail(f"{exc.filename or project_file}: cannot read or write: {exc.strerror or exc}")
    names = " and ".join(str(path) for path in exported.written)
    print(f"wrote {names} (class {exported.code.class_name})")
    if exported.no_script:
        print(f"note: {exported.no_script}")
    return 0


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1
