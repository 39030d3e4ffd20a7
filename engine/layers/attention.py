"""Attention over sequences [N, time, features], batch-first as every layer here:
multi-head attention, a Transformer encoder layer, learned positions and a learned token
put before a sequence (a class token)."""

from engine.layers.params import Param
from engine.layers.rules import require_float, require_rank
from engine.layers.spec import LayerSpec, ShapeError, TensorInfo

LAYOUT = "[N, time, features]"
MAX_WIDTH = 100_000


def _width(name: str, help_text: str) -> Param:
    return Param(name, "int", None, help_text, min=1, max=MAX_WIDTH, inferred=True, positional=True)


def _sequence(layer: str, x: TensorInfo, port: int = 0) -> None:
    require_rank(layer, x, (3,), layout=LAYOUT)
    require_float(layer, x, port)


def _heads(layer: str, width: int, heads: int) -> None:
    if width % heads:
        raise ShapeError(f"{layer} splits {width} features into {heads} heads: it does not divide.")


def _attention_rule(params, inputs):
    query = inputs[0]
    for port, x in enumerate(inputs):
        _sequence("MultiheadAttention", x, port)
        if x.shape[2] != query.shape[2]:
            raise ShapeError(
                "MultiheadAttention's query, key and value need the same features, but "
                f"receive {', '.join(t.describe() for t in inputs)}.",
                port,
            )
    if len(inputs) == 3 and inputs[1].shape[1] != inputs[2].shape[1]:
        raise ShapeError("MultiheadAttention's key and value need the same length.", port=2)
    _heads("MultiheadAttention", query.shape[2], params["num_heads"])
    return query


def _attention_macs(query_length: int, key_length: int, width: int) -> int:
    """The projections of query, key, value and output, and the two products of
    attention (scores, then the weighted sum)."""
    projections = (2 * query_length + 2 * key_length) * width * width
    return projections + 2 * query_length * key_length * width


def _attention_forward(target, args, values):
    query, key, value = args if len(args) == 3 else (args[0],) * 3
    return f"{target}({query}, {key}, {value}, need_weights=False)[0]"


MULTIHEAD_ATTENTION = LayerSpec(
    type="MultiheadAttention",
    category="Attention",
    summary="Multi-head attention: with one input, self-attention; with three, the query, "
    "key and value.",
    params=(
        _width("embed_dim", "Features of the query; auto fills it in."),
        Param("num_heads", "int", 4, "Heads; they must divide embed_dim.", min=1, positional=True),
        Param("dropout", "float", 0.0, "Dropout on the attention weights.", min=0.0, max=1.0),
    ),
    min_inputs=1,
    max_inputs=3,
    module="nn.MultiheadAttention",
    fixed_args=("batch_first=True",),
    forward=_attention_forward,
    shape=_attention_rule,
    infer=lambda inputs: {"embed_dim": inputs[0].shape[2]},
    label="attn",
    macs=lambda params, inputs, out: (
        inputs[0].shape[0]
        * _attention_macs(inputs[0].shape[1], inputs[-1].shape[1], inputs[0].shape[2])
    ),
)


def _encoder_rule(params, inputs):
    x = inputs[0]
    _sequence("TransformerEncoderLayer", x)
    _heads("TransformerEncoderLayer", x.shape[2], params["nhead"])
    return x


TRANSFORMER_ENCODER_LAYER = LayerSpec(
    type="TransformerEncoderLayer",
    category="Attention",
    summary="Self-attention then a feed-forward network, each with a residual and a "
    "LayerNorm (a Transformer encoder's layer).",
    params=(
        _width("d_model", "Features per step; auto fills it in."),
        Param(
            "nhead", "int", 4, "Attention heads; they must divide d_model.", min=1, positional=True
        ),
        Param(
            "dim_feedforward",
            "int",
            256,
            "Width of the feed-forward network.",
            min=1,
            max=MAX_WIDTH,
        ),
        Param("dropout", "float", 0.1, "Dropout in both parts.", min=0.0, max=1.0),
        Param(
            "activation", "choice", "relu", "Of the feed-forward network.", choices=("relu", "gelu")
        ),
        Param("norm_first", "bool", False, "LayerNorm before each part (pre-norm), not after."),
    ),
    module="nn.TransformerEncoderLayer",
    fixed_args=("batch_first=True",),
    shape=_encoder_rule,
    infer=lambda inputs: {"d_model": inputs[0].shape[2]},
    label="encoder",
    macs=lambda params, inputs, out: (
        inputs[0].shape[0]
        * (
            _attention_macs(inputs[0].shape[1], inputs[0].shape[1], inputs[0].shape[2])
            + 2 * inputs[0].shape[1] * inputs[0].shape[2] * params["dim_feedforward"]
        )
    ),
)


def _positions_rule(params, inputs):
    x = inputs[0]
    _sequence("PositionalEmbedding", x)
    if x.shape[1] > params["max_length"]:
        raise ShapeError(
            f"PositionalEmbedding learns {params['max_length']} positions, but its input "
            f"{x.describe()} has {x.shape[1]} steps: raise max_length.",
            port=0,
        )
    return x


POSITIONAL_EMBEDDING = LayerSpec(
    type="PositionalEmbedding",
    category="Attention",
    summary="Adds a learned vector per position to a sequence, so that attention can tell "
    "the steps apart.",
    params=(
        Param(
            "max_length",
            "int",
            512,
            "Positions learned: the longest sequence.",
            min=1,
            max=1_000_000,
            positional=True,
        ),
        _width("embedding_dim", "Features per step; auto fills it in."),
    ),
    module="nn.Embedding",
    forward=lambda target, args, values: (
        f"{args[0]} + {target}(torch.arange({args[0]}.size(1), device={args[0]}.device))"
    ),
    shape=_positions_rule,
    infer=lambda inputs: {"embedding_dim": inputs[0].shape[2]},
    label="positions",
    uses=("torch",),
)


def _token_rule(params, inputs):
    x = inputs[0]
    _sequence("ClassToken", x)
    return TensorInfo((x.shape[0], x.shape[1] + 1, x.shape[2]))


CLASS_TOKEN = LayerSpec(
    type="ClassToken",
    category="Attention",
    summary="Puts a learned vector (a learnable tensor) before every sequence: the step a "
    "Vision Transformer classifies from.",
    params=(
        Param(
            "embedding_dim",
            "int",
            None,
            "Features per step; auto fills it in.",
            min=1,
            max=MAX_WIDTH,
            inferred=True,
        ),
    ),
    module="nn.Embedding",
    fixed_args=("num_embeddings=1",),
    forward=lambda target, args, values: (
        f"torch.cat([{target}.weight.expand({args[0]}.size(0), 1, -1), {args[0]}], 1)"
    ),
    shape=_token_rule,
    infer=lambda inputs: {"embedding_dim": inputs[0].shape[2]},
    label="token",
    uses=("torch",),
)

SPECS = (MULTIHEAD_ATTENTION, TRANSFORMER_ENCODER_LAYER, POSITIONAL_EMBEDDING, CLASS_TOKEN)
