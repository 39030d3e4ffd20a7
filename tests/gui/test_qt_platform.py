"""Before Qt opens the window it is asked whether it can: a missing system library or a
missing display gives one line naming the fix and exit status 1, not Qt's abort."""

import os
import shutil
import subprocess
import sys

import pytest

from gui.qt_platform import NO_DISPLAY, PACKAGES, missing_libraries, window_problem, xcb_plugin
from tests.paths import ROOT

ABSENT = "libtorchwright-absent.so.1"
ON_X11 = {"DISPLAY": ":0"}
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xcb is Linux's")


def test_a_library_the_loader_cannot_find_is_named():
    assert missing_libraries([ABSENT, "libc.so.6"]) == [ABSENT]


def test_a_missing_library_gives_the_apt_get_line():
    line = window_problem(ON_X11, {"libc.so.6": "libc6", ABSENT: "torchwright-absent"})
    assert line == (
        "Torchwright cannot open its window: Qt needs libtorchwright-absent.so.1, missing "
        "here; on Debian/Ubuntu run: sudo apt-get install torchwright-absent"
    )


def test_a_plugin_that_does_not_load_is_reported_with_the_loaders_words(tmp_path):
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"not a shared library")
    line = window_problem(ON_X11, {}, plugin)
    assert line.startswith("Torchwright cannot open its window: Qt's xcb platform plugin")
    assert str(plugin) in line and "\n" not in line


@pytest.mark.parametrize(
    "env",
    [
        {"QT_QPA_PLATFORM": "offscreen"},
        {"QT_QPA_PLATFORM": "wayland;xcb", **ON_X11},
        {"XDG_SESSION_TYPE": "wayland"},
        {"WAYLAND_DISPLAY": "wayland-0"},
    ],
)
def test_other_platforms_are_left_to_qt(env):
    assert window_problem(env, {ABSENT: "torchwright-absent"}) is None


@pytest.mark.parametrize("env", [{}, {"QT_QPA_PLATFORM": "xcb"}, {"XDG_SESSION_TYPE": "x11"}])
def test_no_display_is_said_before_any_library_is_tried(env):
    assert window_problem(env, {ABSENT: "torchwright-absent"}) == NO_DISPLAY


@pytest.mark.skipif(shutil.which("ldd") is None, reason="needs ldd")
def test_every_library_named_is_one_the_xcb_plugin_needs():
    listed = subprocess.run(["ldd", str(xcb_plugin())], capture_output=True, text=True).stdout
    needed = {line.split()[0] for line in listed.splitlines() if "=>" in line}
    assert set(PACKAGES) <= needed


def start_app(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """Torchwright started as a user starts it, in an environment of our choosing."""
    unset = ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE")
    base = {key: value for key, value in os.environ.items() if key not in unset}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_app_without_a_display_says_so_in_one_line():
    result = start_app(["main.py"], {})
    assert (result.returncode, result.stdout, result.stderr) == (1, "", NO_DISPLAY + "\n")


def test_the_app_missing_a_library_names_the_package_instead_of_aborting():
    code = (
        "import sys, gui.qt_platform as platform, main; "
        f"platform.PACKAGES[{ABSENT!r}] = 'torchwright-absent'; "
        "sys.exit(main.main([]))"
    )
    result = start_app(["-c", code], ON_X11)
    assert result.returncode == 1 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert ABSENT in line and "sudo apt-get install" in line and "torchwright-absent" in line
