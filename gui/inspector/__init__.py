"""The inspector: a property editor generated from the selected layer's parameter schema.

panel.py holds the panel (`Inspector`), form.py the form for one node, editors.py one
editor per parameter kind, code_field.py the Custom layer's source editor and values.py
how values read and write as text.
"""

from gui.inspector.panel import Inspector

__all__ = ["Inspector"]
