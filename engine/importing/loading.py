"""Running the user's model file and building the model class with no arguments.

The file is the user's own code, and running it is what they asked for. While the model
is built, `__init__` of every layer class the file defines or imports by name is wrapped
to record the arguments each instance gets, so that a Custom layer can be rebuilt
without arguments (see `engine.importing.custom`).
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path
from types import ModuleType
from typing import Any

from torch import nn

from engine.document.files import not_a_file
from engine.importing.source import USER_CODE_ERRORS, SourceFile

_names = count(1)
Call = tuple[tuple[Any, ...], dict[str, Any]]


@contextmanager
def user_module(source: SourceFile) -> Iterator[ModuleType]:
    """The file run as a module, registered (for `inspect.getsource`) while in use."""
    why = not_a_file(source.path)  # a folder or a pipe is said as such, not as missing
    if why:
        raise source.error(None, why)
    name = f"_torchwright_import_{next(_names)}"
    spec = importlib.util.spec_from_file_location(name, source.path)
    if spec is None or spec.loader is None:
        raise source.error(None, "not a Python file")
    module = importlib.util.module_from_spec(spec)
    folder = str(source.path.parent)  # so that it can import its neighbours
    before = set(sys.modules)
    sys.modules[name] = module
    sys.path.insert(0, folder)
    try:
        try:
            spec.loader.exec_module(module)
        except SyntaxError as exc:
            raise source.error(exc.lineno, f"syntax error: {exc.msg}") from None
        except USER_CODE_ERRORS as exc:
            raise source.failure("running the file failed", exc) from None
        yield module
    finally:
        sys.path.remove(folder)
        for loaded in set(sys.modules) - before:  # a retry must see edited neighbours
            if _is_under(sys.modules[loaded], source.path.parent):
                del sys.modules[loaded]


def _is_under(module: ModuleType, folder: Path) -> bool:
    """Whether the module is the user's own, from `folder`, and not an installed package
    (a project's .venv may sit inside the same folder)."""
    file = getattr(module, "__file__", None)
    if file is None:
        return False
    path = Path(file).resolve()
    installed = "site-packages" in path.parts or path.is_relative_to(Path(sys.prefix).resolve())
    return path.is_relative_to(folder) and not installed


def model_class(module: ModuleType, class_name: str, source: SourceFile) -> type[nn.Module]:
    found = vars(module).get(class_name)
    if isinstance(found, type) and issubclass(found, nn.Module):
        return found
    if found is not None:
        raise source.error(None, f"{class_name} is not an nn.Module class")
    own = [c.__name__ for c in layer_classes(module) if c.__module__ == module.__name__]
    listed = ", ".join(own) or "none"
    raise source.error(None, f"there is no class {class_name} (nn.Module classes: {listed})")


def layer_classes(module: ModuleType) -> list[type[nn.Module]]:
    """nn.Module classes the file defines or imports by name, apart from torch's own."""
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, nn.Module)
        and value.__module__.split(".")[0] != "torch"
    ]


class ArgumentRecorder:
    """Records the arguments of the outermost `__init__` call of each instance of `classes`
    while it is active (a subclass's `super().__init__(...)` call is not recorded)."""

    def __init__(self, classes: list[type]):
        self.classes = classes
        self.calls: dict[int, tuple[object, Call]] = {}  # keeps instances alive: ids stay unique
        self._building: list[object] = []
        self._saved: list[tuple[type, object]] = []

    def __enter__(self) -> ArgumentRecorder:
        for cls in self.classes:
            self._saved.append((cls, cls.__dict__.get("__init__")))
            cls.__init__ = self._wrap(cls.__init__)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for cls, init in reversed(self._saved):
            if init is None:
                del cls.__init__
            else:
                cls.__init__ = init
        self._saved.clear()

    def _wrap(self, init):
        @functools.wraps(init)
        def recording_init(instance, *args, **kwargs):
            if not any(b is instance for b in self._building):
                self.calls[id(instance)] = (instance, (args, kwargs))
            self._building.append(instance)
            try:
                init(instance, *args, **kwargs)
            finally:
                self._building.pop()

        return recording_init

    def call_of(self, instance: object) -> Call | None:
        """The arguments `instance` was built with; None if its class was not recorded."""
        entry = self.calls.get(id(instance))
        return entry[1] if entry is not None and entry[0] is instance else None


def build_model(
    cls: type[nn.Module], module: ModuleType, source: SourceFile
) -> tuple[nn.Module, ArgumentRecorder]:
    """`cls()` in eval mode, with the arguments of its layers recorded."""
    needed = [
        p.name
        for p in inspect.signature(cls).parameters.values()
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if needed:
        several = len(needed) > 1
        advice = "give them default values" if several else "give it a default value"
        raise source.error(
            source.definition_line(cls.__init__),
            f"{cls.__name__}() needs the argument{'s' if several else ''} {', '.join(needed)}; "
            f"{advice} so that Torchwright can build it with none",
        )
    recorder = ArgumentRecorder(layer_classes(module))
    try:
        with recorder:
            model = cls()
    except USER_CODE_ERRORS as exc:
        raise source.failure(f"building {cls.__name__}() failed", exc) from None
    return model.eval(), recorder
