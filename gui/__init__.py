"""Torchwright's desktop app (PySide6): views over the engine's document."""


def __getattr__(name: str):
    # `from gui import MainWindow` without importing Qt for every `import gui.x`.
    if name == "MainWindow":
        from gui.main_window import MainWindow

        return MainWindow
    raise AttributeError(name)


__all__ = ["MainWindow"]
