"""The packages of the wheel: engine and gui with their sub-packages, and the data-only
engine.preset_files, which pyproject.toml maps onto the top-level presets/ folder.
(pyproject.toml alone cannot both find packages and add one that lives elsewhere.)"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(include=["engine*", "gui*"], exclude=["*.__pycache__"]),
        "engine.preset_files",
    ]
)
