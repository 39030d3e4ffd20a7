"""Which catalog layer a torch.nn module becomes, with its parameters read from the
instance. Only the exact classes listed here map to a layer: a subclass may change
forward(), so it is imported as a Custom layer instead."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from engine.importing.arguments import CONVERTERS, Args, size

Converter = Callable[[Any, Args], dict[str, Any]]


def _linear(m: nn.Linear, a: Args) -> dict[str, Any]:
    return {"in_features": None, "out_features": m.out_features, "bias": m.bias is not None}


def _embedding(m: nn.Embedding, a: Args) -> dict[str, Any]:
    a.expect("max_norm", None)
    a.expect("scale_grad_by_freq", False)
    a.expect("sparse", False)
    return {
        "num_embeddings": m.num_embeddings,
        "embedding_dim": m.embedding_dim,
        "padding_idx": m.padding_idx,
    }


def _conv_padding(m: nn.modules.conv._ConvNd, a: Args) -> Any:
    if m.padding == "valid":
        return 0
    if m.padding != "same":
        return size(m.padding)
    spans = [d * (k - 1) for k, d in zip(m.kernel_size, m.dilation, strict=True)]
    if any(s % 2 for s in spans):
        a.reject("padding='same' with an even kernel (it pads one side more)")
    return size(tuple(s // 2 for s in spans))


def _groups(m: nn.modules.conv._ConvNd) -> int | None:
    """A convolution's groups; None (auto, depthwise) for one group per input channel."""
    return None if m.groups == m.in_channels and m.groups > 1 else m.groups


def _conv(m: nn.modules.conv._ConvNd, a: Args) -> dict[str, Any]:
    a.expect("padding_mode", "zeros")
    if isinstance(m, nn.ConvTranspose2d):
        a.expect("groups", 1)
    params = {
        "in_channels": None,
        "out_channels": m.out_channels,
        "kernel_size": size(m.kernel_size),
        "stride": size(m.stride),
        "padding": _conv_padding(m, a),
        "dilation": size(m.dilation),
        "bias": m.bias is not None,
    }
    if isinstance(m, nn.ConvTranspose2d):
        params["output_padding"] = size(m.output_padding)
    else:
        params["groups"] = _groups(m)
    return params


def _batchnorm(m: nn.modules.batchnorm._BatchNorm, a: Args) -> dict[str, Any]:
    a.expect("track_running_stats", True)
    if m.momentum is None:
        a.reject("momentum=None (a cumulative average)")
    return {"num_features": None, "eps": m.eps, "momentum": m.momentum or 0.0, "affine": m.affine}


def _layernorm(m: nn.LayerNorm, a: Args) -> dict[str, Any]:
    if m.elementwise_affine and m.bias is None:
        a.reject("bias=False")
    shape = list(m.normalized_shape)
    return {
        "normalized_shape": None if len(shape) == 1 else shape,
        "eps": m.eps,
        "elementwise_affine": m.elementwise_affine,
    }


def _recurrent(m: nn.LSTM | nn.GRU, a: Args) -> dict[str, Any]:
    a.expect("batch_first", True)
    a.expect("bias", True)
    a.expect("proj_size", 0)
    return {
        "input_size": None,
        "hidden_size": m.hidden_size,
        "num_layers": m.num_layers,
        "bidirectional": m.bidirectional,
        "dropout": float(m.dropout),
    }


def _rnn(m: nn.RNN, a: Args) -> dict[str, Any]:
    return {**_recurrent(m, a), "nonlinearity": m.nonlinearity}


def _groupnorm(m: nn.GroupNorm, a: Args) -> dict[str, Any]:
    return {"num_groups": m.num_groups, "num_channels": None, "eps": m.eps, "affine": m.affine}


def _instancenorm(m: nn.InstanceNorm2d, a: Args) -> dict[str, Any]:
    a.expect("track_running_stats", False)
    return {"num_features": None, "eps": m.eps, "affine": m.affine}


def _prelu(m: nn.PReLU, a: Args) -> dict[str, Any]:
    return {"num_parameters": m.num_parameters}  # the slopes themselves come with the weights


def _attention(m: nn.MultiheadAttention, a: Args) -> dict[str, Any]:
    a.expect("batch_first", True)
    for name in ("bias_k", "bias_v"):
        if getattr(m, name) is not None:
            a.reject("add_bias_kv=True")
    if not m._qkv_same_embed_dim:
        a.reject("kdim or vdim other than embed_dim")
    if m.in_proj_bias is None:
        a.reject("bias=False")
    a.expect("add_zero_attn", False)
    return {"embed_dim": None, "num_heads": m.num_heads, "dropout": float(m.dropout)}


def _encoder_layer(m: nn.TransformerEncoderLayer, a: Args) -> dict[str, Any]:
    attention = m.self_attn
    if not attention.batch_first:
        a.reject("batch_first=False")
    activation = {1: "relu", 2: "gelu"}.get(getattr(m, "activation_relu_or_gelu", 0))
    if activation is None:
        a.reject("an activation other than relu or gelu")
    if m.norm1.eps != 1e-5 or m.linear1.bias is None:
        a.reject("layer_norm_eps other than 1e-5, or bias=False")
    return {
        "d_model": None,
        "nhead": attention.num_heads,
        "dim_feedforward": m.linear1.out_features,
        "dropout": float(m.dropout.p),
        "activation": activation or "relu",
        "norm_first": bool(m.norm_first),
    }


def _settings(layer: str) -> Converter:
    return lambda m, a: CONVERTERS[layer](a)


_WITH_WEIGHTS: dict[type[nn.Module], tuple[str, Converter]] = {
    nn.Linear: ("Linear", _linear),
    nn.Embedding: ("Embedding", _embedding),
    nn.Conv1d: ("Conv1d", _conv),
    nn.Conv2d: ("Conv2d", _conv),
    nn.ConvTranspose2d: ("ConvTranspose2d", _conv),
    nn.BatchNorm1d: ("BatchNorm1d", _batchnorm),
    nn.BatchNorm2d: ("BatchNorm2d", _batchnorm),
    nn.LayerNorm: ("LayerNorm", _layernorm),
    nn.LSTM: ("LSTM", _recurrent),
    nn.GRU: ("GRU", _recurrent),
    nn.RNN: ("RNN", _rnn),
    nn.GroupNorm: ("GroupNorm", _groupnorm),
    nn.InstanceNorm2d: ("InstanceNorm2d", _instancenorm),
    nn.PReLU: ("PReLU", _prelu),
    nn.MultiheadAttention: ("MultiheadAttention", _attention),
    nn.TransformerEncoderLayer: ("TransformerEncoderLayer", _encoder_layer),
}

# Modules whose class name is the catalog type, read by their shared settings converter.
_BY_SETTINGS = (
    nn.Dropout,
    nn.Identity,
    nn.MaxPool1d,
    nn.MaxPool2d,
    nn.AvgPool1d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool2d,
    nn.ReLU,
    nn.LeakyReLU,
    nn.GELU,
    nn.SiLU,
    nn.ELU,
    nn.Sigmoid,
    nn.Tanh,
    nn.Softmax,
    nn.LogSoftmax,
    nn.Flatten,
    nn.ReLU6,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.Mish,
    nn.Softplus,
    nn.Dropout2d,
    nn.Upsample,
    nn.ZeroPad2d,
    nn.AdaptiveMaxPool2d,
)

MODULE_LAYERS: dict[type[nn.Module], tuple[str, Converter]] = {
    **_WITH_WEIGHTS,
    **{cls: (cls.__name__, _settings(cls.__name__)) for cls in _BY_SETTINGS},
}

RECURRENT = ("LSTM", "GRU", "RNN")
PAIRED = ("MultiheadAttention",)  # return (output, attention weights)


def layer_for(module: nn.Module, rank: int) -> tuple[str, dict[str, Any], Args] | None:
    """(catalog type, parameters, the module's settings with their problems) for a module,
    or None when no catalog layer is this module's class."""
    entry = MODULE_LAYERS.get(type(module))
    if entry is None:
        return None
    layer, convert = entry
    args = Args(vars(module), rank)
    return layer, convert(module, args), args
