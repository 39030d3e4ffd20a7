"""The house's layers, read from the source: which package may import which.

Every import statement counts, at the top of a file or inside a function, so a layer
cannot be crossed by importing late. Packages are ranked from the bottom up; a module may
import its own package and any package ranked below its own, never one ranked above or
a neighbour of the same rank.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

RANKS: tuple[tuple[str, ...], ...] = (
    ("engine.errors",),
    ("engine.layers",),
    ("engine.document",),
    ("engine.model",),
    ("engine.data",),
    ("engine.training",),
    ("engine.export", "engine.importing"),
    ("engine.runs",),
    ("engine.process", "engine.cli"),
    ("gui",),
    ("main",),
)
QT = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6")
SCANNED = ("engine", "gui", "main.py")


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    imported: str
    why: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.imported}: {self.why}"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(root: Path, path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file."""
    package = module_name(root, path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            name = ".".join([*base, node.module] if node.module else base)
            if rank_of(name) is None:  # `from engine import runs`: the names are modules
                found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, name))
    return found


def rank_of(module: str) -> tuple[int, str] | None:
    """(rank, package) of a module of the house, or None for anything else."""
    for rank, packages in enumerate(RANKS):
        for package in packages:
            if module == package or module.startswith(package + "."):
                return rank, package
    return None


def violations(root: Path) -> list[Violation]:
    found = []
    for top in SCANNED:
        paths = [root / top] if top.endswith(".py") else sorted((root / top).rglob("*.py"))
        for path in paths:
            if path.is_file():
                found += _check_file(root, path)
    return found


def _check_file(root: Path, path: Path) -> list[Violation]:
    here = module_name(root, path)
    own = rank_of(here)
    found = []
    for line, name in imports(root, path):
        where = str(path.relative_to(root))
        if name.split(".")[0] in QT and not here.startswith("gui"):
            found.append(Violation(where, line, name, "only gui/ may use Qt"))
            continue
        theirs = rank_of(name)
        if own is None or theirs is None or theirs[1] == own[1]:
            continue
        if theirs[0] > own[0]:
            found.append(Violation(where, line, name, f"{theirs[1]} is above {own[1]}"))
        elif theirs[0] == own[0]:
            found.append(Violation(where, line, name, f"{theirs[1]} is beside {own[1]}"))
    return found
