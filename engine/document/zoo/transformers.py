"""Transformers built from the catalog: an encoder that classifies texts, and a small
Vision Transformer (Dosovitskiy et al., 2020) for pictures."""

from __future__ import annotations

from engine.document.blocks import BlockType
from engine.document.zoo.builder import Builder, block


def encoder_stack(count: int, width: int, heads: int, hidden: int, dropout: float) -> BlockType:
    """`count` TransformerEncoderLayers in a row, pre-norm and GELU."""

    def body(b: Builder) -> None:
        for number in range(1, count + 1):
            b(
                "TransformerEncoderLayer",
                f"layer{number}",
                nhead=heads,
                dim_feedforward=hidden,
                dropout=dropout,
                activation="gelu",
                norm_first=True,
            )

    summary = f"{count} Transformer encoder layers ({heads} heads, pre-norm)."
    return block("Encoder", body, sequential=True, summary=summary)


def text_transformer(vocabulary: int, length: int) -> Builder:
    """Token ids -> embeddings and positions -> 2 encoder layers -> the mean over the
    texts' words (padding left out) -> classes."""
    b = Builder()
    tokens = b("Input", "tokens", inputs=[], dtype="int64")
    b("Embedding", "embed", num_embeddings=vocabulary, embedding_dim=64, padding_idx=0)
    b("PositionalEmbedding", "positions", max_length=length)
    b(encoder_stack(2, 64, 4, 128, 0.1), "encoder")
    b("SequencePool", "pool", inputs=[b.last, tokens], mode="mean")
    b("Linear", "classes", out_features=None)
    b("Output", "label")
    return b


def vit_tiny(patch: int = 4, width: int = 64, patches: int = 64) -> Builder:
    """Pictures -> patches of `patch` x `patch` pixels embedded by a convolution -> a
    class token before them, learned positions -> 4 encoder layers -> the class token's
    features -> classes."""
    b = Builder()
    b("Input", "x", inputs=[])
    b("Conv2d", "patches", out_channels=width, kernel_size=patch, stride=patch)
    b("Flatten", "flatten", start_dim=2)
    b("Transpose", "tokens", dim0=1, dim1=2)
    b("ClassToken", "class_token")
    b("PositionalEmbedding", "positions", max_length=patches + 1)
    b(encoder_stack(4, width, 4, 2 * width, 0.0), "encoder")
    b("LayerNorm", "norm")
    b("Chunk", "first", chunks=patches + 1, dim=1, index=0)  # the class token's step
    b("Squeeze", "class_features", dim=1)
    b("Linear", "head", out_features=None)
    b("Output", "out")
    return b
