"""Torchwright's engine: the graph document, layer catalog, shape inference, code
generation, project files and training. Pure Python + torch; it never imports Qt."""
