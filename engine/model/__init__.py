"""Graph -> source -> module: shape inference, code generation and building, one path."""
