"""Whether Qt can open a window here, asked before Qt tries.

On Linux outside Wayland, Qt draws through its xcb platform plugin, a shared library that
links a couple of dozen system libraries. When one is missing, or there is no display,
Qt ends the process (qFatal) with a page of text that names neither the missing package
nor the fix. `window_problem` looks first, by loading those libraries and then the plugin
itself as Qt would, and answers with one line that names the apt-get command.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Iterable, Mapping
from importlib.util import find_spec
from pathlib import Path

# The system libraries PySide6's libqxcb.so needs (ldd on the plugin), and the Debian /
# Ubuntu packages that hold them. The C and C++ runtimes, zlib and what these pull in
# themselves are left out: apt-get installs those with them.
PACKAGES = {
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
}
CANNOT = "Torchwright cannot open its window"
NO_DISPLAY = (
    f"{CANNOT}: there is no display (DISPLAY is not set). Start it in a desktop session; "
    "the sub-commands (torchwright check, train, export, import) need no display."
)


def window_problem(
    env: Mapping[str, str], packages: Mapping[str, str] = PACKAGES, plugin: Path | None = None
) -> str | None:
    """One line saying why Qt would abort instead of opening a window, or None."""
    if not sys.platform.startswith("linux") or not uses_xcb(env):
        return None
    if not env.get("DISPLAY"):
        return NO_DISPLAY
    missing = missing_libraries(packages)
    if missing:
        return advice(missing, packages)
    plugin = plugin or xcb_plugin()
    error = load_error(str(plugin)) if plugin is not None and plugin.is_file() else None
    if error is None:
        return None
    library = error.split(":")[0]
    if "/" not in library:  # a library our table does not know
        return advice([library], packages)
    return f"{CANNOT}: Qt's xcb platform plugin does not load ({error})."


def uses_xcb(env: Mapping[str, str]) -> bool:
    """Whether Qt starts on its xcb plugin: QT_QPA_PLATFORM unset or naming xcb first, and
    not a Wayland session (there Qt tries its wayland plugin first)."""
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(";")[0].split(":")[0] == "xcb"
    return env.get("XDG_SESSION_TYPE") != "wayland" and not env.get("WAYLAND_DISPLAY")


def missing_libraries(names: Iterable[str]) -> list[str]:
    """The shared libraries among `names` that the dynamic loader cannot find."""
    return [name for name in names if load_error(name) is not None]


def load_error(library: str) -> str | None:
    """The dynamic loader's complaint about loading `library`, or None if it loads."""
    try:
        ctypes.CDLL(library)
    except OSError as exc:
        return str(exc)
    return None


def advice(missing: list[str], packages: Mapping[str, str]) -> str:
    """The line for libraries `missing`, with the apt-get command when all are known."""
    known = [packages[name] for name in missing if name in packages]
    fix = (
        f"on Debian/Ubuntu run: sudo apt-get install {' '.join(known)}"
        if len(known) == len(missing)
        else "install the system packages that provide them"
    )
    return f"{CANNOT}: Qt needs {', '.join(missing)}, missing here; {fix}"


def xcb_plugin() -> Path | None:
    """PySide6's xcb platform plugin, found without importing Qt."""
    spec = find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0]) / "Qt/plugins/platforms/libqxcb.so"
