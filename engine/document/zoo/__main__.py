"""`python -m engine.document.zoo FOLDER`: write the zoo's presets into FOLDER."""

import sys
from pathlib import Path

from engine.document.project import save
from engine.document.zoo import ZOO, zoo_project

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m engine.document.zoo FOLDER")
    for name in ZOO:
        save(zoo_project(name), Path(sys.argv[1]) / f"{name}.json")
