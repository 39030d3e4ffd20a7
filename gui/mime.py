"""Drag-and-drop and clipboard formats shared by the palette, the canvas and the menus."""

# A drag from the palette: the payload is the layer type's name, UTF-8 ("Conv2d").
LAYER_MIME = "application/x-torchwright-layer"
# Copied nodes: the payload is JSON from engine.document.fragments.copy_fragment.
NODES_MIME = "application/x-torchwright-nodes"
