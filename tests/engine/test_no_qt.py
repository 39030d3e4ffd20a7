"""engine/ must work without Qt: import every engine module with Qt imports blocked."""

import subprocess
import sys

from tests.paths import ROOT

BLOCK_QT = """
import importlib, pkgutil, sys
class BlockQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph"):
            raise ImportError("Qt is blocked in this test: " + name)
sys.meta_path.insert(0, BlockQt())
import engine
names = [m.name for m in pkgutil.walk_packages(engine.__path__, "engine.")]
for name in names:
    importlib.import_module(name)
loaded = [m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph")]
assert not loaded, loaded
print(len(names))
"""


def test_every_engine_module_imports_with_qt_blocked():
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_QT], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) >= 15  # it really walked the package


def test_no_engine_source_mentions_qt():
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "engine").rglob("*.py")
        for line in path.read_text().splitlines()
        if line.lstrip().startswith(("import ", "from "))
        and any(q in line for q in ("PySide6", "PyQt", "shiboken", "pyqtgraph"))
    ]
    assert offenders == []
