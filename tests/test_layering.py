"""The layering contracts of the house, and proof that each one can fail."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.layering import violations
from tests.paths import ROOT

WITHOUT_TORCH = """
import importlib, pkgutil, sys
class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ImportError("torch is absent in this test: " + name)
sys.meta_path.insert(0, NoTorch())
count = 0
for package in sys.argv[1:]:
    module = importlib.import_module(package)
    for info in pkgutil.walk_packages(getattr(module, "__path__", []), package + "."):
        importlib.import_module(info.name)
        count += 1
assert "torch" not in sys.modules
print(count)
"""


def import_without_torch(*packages: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_TORCH, *packages],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_document_and_layers_import_with_torch_absent():
    result = import_without_torch("engine.document", "engine.layers")
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 15  # it really walked both packages


def test_a_package_that_needs_torch_fails_without_it():
    result = import_without_torch("engine.model")
    assert result.returncode != 0
    assert "torch is absent in this test" in result.stderr


def test_the_house_keeps_its_layers():
    assert [str(v) for v in violations(ROOT)] == []


def write_tree(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


TREE = {
    "engine/__init__.py": "",
    "engine/document/__init__.py": "",
    "engine/document/graph.py": "from engine.layers import spec\n",
    "engine/layers/__init__.py": "",
    "engine/layers/spec.py": "",
    "engine/model/__init__.py": "",
    "engine/model/shapes.py": "from engine.document.graph import Graph\n",
    "engine/export/__init__.py": "",
    "engine/importing/__init__.py": "",
    "gui/__init__.py": "from PySide6.QtCore import QObject\n",
    "main.py": "import gui\n",
}


def test_a_tree_that_keeps_its_layers_passes(tmp_path):
    write_tree(tmp_path, TREE)
    assert violations(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "text", "why"),
    [
        # a layer imports one above it, even late, inside a function
        (
            "engine/document/graph.py",
            "def infer():\n    from engine.model import shapes\n",
            "engine.model is above engine.document",
        ),
        # neighbours of one rank do not import each other
        ("engine/export/code.py", "from engine.importing import x\n", "is beside"),
        # relative imports are resolved before they are ranked
        ("engine/layers/rules.py", "from ..document import graph\n", "is above"),
        # Qt outside gui/
        ("engine/model/build.py", "import pyqtgraph\n", "only gui/ may use Qt"),
        ("main.py", "from PySide6.QtWidgets import QApplication\n", "only gui/ may use Qt"),
        ("engine/cli/run.py", "import gui.app\n", "gui is above engine.cli"),
    ],
)
def test_each_kind_of_crossing_is_caught(tmp_path, name, text, why):
    write_tree(tmp_path, {**TREE, name: text})
    found = violations(tmp_path)
    assert len(found) == 1, found
    assert found[0].path == name
    assert why in str(found[0])
