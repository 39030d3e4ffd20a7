"""Importing PyTorch model code as an editable Torchwright graph (no Qt).

result = import_model("model.py", "Net", [(1, 784)])
result.project    # the graph, laid out, ready to save or open
result.key_map    # original state_dict key -> key in the generated model
"""

from engine.importing.importer import ImportResult, import_model
from engine.importing.source import ModelImportError

__all__ = ["ImportResult", "ModelImportError", "import_model"]
