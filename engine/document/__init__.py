"""The document: the graph, its undoable edits, project files and settings. No torch."""
