"""The wheel is the app: built from the sources and installed into a fresh virtual
environment, the `torchwright` command works from an empty folder outside the checkout,
on the presets the wheel carries.

The fresh environment borrows the dependencies (torch, PySide6...) of the one running the
tests through a .pth line, so nothing is downloaded; CI (.ci/run) also installs the
wheel with its dependencies resolved by pip.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from gui.qt_platform import NO_DISPLAY
from tests.paths import PRESETS, ROOT

SOURCES = ("engine", "gui", "presets", "main.py", "pyproject.toml", "setup.py", "README.md")


def run(*command, cwd: Path) -> str:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def build_wheel(folder: Path) -> Path:
    """The wheel of a clean copy of the sources (a build/ folder left in the checkout
    could carry stale files)."""
    source = folder / "source"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(
                ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(ROOT / name, source / name)
    pip_wheel = (sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation")
    run(*pip_wheel, "--quiet", source, "--wheel-dir", folder / "dist", cwd=folder)
    (wheel,) = (folder / "dist").glob("torchwright-*.whl")
    return wheel


def install(wheel: Path, venv: Path) -> Path:
    """A fresh environment holding the wheel; its bin folder."""
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=venv.parent)
    python = venv / "bin" / "python"
    pip = (sys.executable, "-m", "pip", "--python", python, "install", "--quiet")
    run(*pip, "--no-deps", "--no-index", wheel, cwd=venv.parent)
    site = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=venv)
    )
    (Path(str(site).strip()) / "borrowed.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv / "bin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(folder)
    return wheel, install(wheel, folder / "venv")


def test_the_wheel_holds_the_packages_and_the_presets_and_no_bare_module(installed):
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {
        "engine",
        "gui",
        "torchwright-0.1.0.dist-info",
    }
    bundled = {n.removeprefix("engine/preset_files/") for n in names}
    shipped = [*PRESETS.glob("*.json"), *PRESETS.glob("data/*.csv")]  # with their data
    assert bundled >= {p.relative_to(PRESETS).as_posix() for p in shipped}
    assert not {n for n in bundled if n.startswith("data/")} - {
        p.relative_to(PRESETS).as_posix() for p in shipped
    }


def test_the_installed_command_checks_and_trains_its_presets_from_an_empty_folder(
    installed, tmp_path
):
    _, bin_folder = installed
    torchwright = bin_folder / "torchwright"
    presets = run(torchwright, "presets", cwd=tmp_path).split()
    assert len(presets) == len(list(PRESETS.glob("*.json")))
    assert all(Path(p).is_file() and not Path(p).is_relative_to(ROOT) for p in presets)
    checked = run(torchwright, "check", *presets, cwd=tmp_path).splitlines()
    assert checked == [f"{p}: ok" for p in presets]
    digits = run(torchwright, "presets", "digits_mlp", cwd=tmp_path).strip()
    run(torchwright, "train", digits, "--epochs", "1", "--out", "run", cwd=tmp_path)
    assert {"model.py", "weights.safetensors", "summary.json"} <= {
        p.name for p in (tmp_path / "run").iterdir()
    }
    run(torchwright, "export", digits, "--out", "export", cwd=tmp_path)
    assert (tmp_path / "export" / "model.py").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export", "run"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="elsewhere the window opens")
def test_the_installed_command_starts_the_app_and_says_why_it_cannot_show(installed, tmp_path):
    _, bin_folder = installed
    unset = ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "PYTHONPATH")
    env = {key: value for key, value in os.environ.items() if key not in unset}
    app = subprocess.run(
        [bin_folder / "torchwright"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert (app.returncode, app.stderr) == (1, NO_DISPLAY + "\n")
