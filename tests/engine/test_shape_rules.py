"""Each layer's shape rule agrees with torch itself.

For random parameters and input shapes: when the rule gives a shape, torch gives the same
shape; when the rule reports a problem, torch fails too; and the other way round.
"""

import contextlib

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from engine.document.graph import Graph
from engine.layers import CATALOG, ShapeError, TensorInfo
from engine.model.runtime import base_namespace
from engine.model.shapes import BATCH, TORCH_DTYPES, resolve_params

small = st.integers(1, 12)


def spatial(draw, dims):
    return tuple(draw(small) for _ in range(dims))


def sizes(dims, lo=1, hi=4):
    one = st.integers(lo, hi)
    return st.one_of(one, st.lists(one, min_size=dims, max_size=dims)) if dims > 1 else one


@st.composite
def case(draw, layer_type):
    """(params, input infos) for one layer type."""
    d = draw
    if layer_type == "Linear":
        shape = (BATCH, *(d(small) for _ in range(d(st.integers(1, 3)))))
        return {"out_features": d(small), "bias": d(st.booleans())}, [TensorInfo(shape)]
    if layer_type in ("Conv1d", "Conv2d", "ConvTranspose2d"):
        dims = 1 if layer_type == "Conv1d" else 2
        params = {
            "out_channels": d(st.integers(1, 4)),
            "kernel_size": d(sizes(dims, 1, 5)),
            "stride": d(sizes(dims, 1, 3)),
            "padding": d(sizes(dims, 0, 2)),
            "dilation": d(sizes(dims, 1, 2)),
        }
        if layer_type == "ConvTranspose2d":
            params["output_padding"] = d(sizes(dims, 0, 2))
        else:  # groups that divide the channels, that do not, and auto (depthwise)
            params["groups"] = d(st.sampled_from([1, 2, 3, None]))
        return params, [TensorInfo((BATCH, d(st.integers(1, 4)), *spatial(d, dims)))]
    if "Pool" in layer_type and layer_type[-1] == "d" and "Adaptive" not in layer_type:
        dims = int(layer_type[-2])
        params = {
            "kernel_size": d(sizes(dims, 1, 4)),
            "stride": d(st.one_of(st.none(), sizes(dims, 1, 3))),
            "padding": d(sizes(dims, 0, 2)),
            "ceil_mode": d(st.booleans()),
        }
        return params, [TensorInfo((BATCH, d(st.integers(1, 3)), *spatial(d, dims)))]
    if layer_type == "AdaptiveAvgPool2d":
        params = {"output_size": d(sizes(2, 1, 4))}
        return params, [TensorInfo((BATCH, 2, *spatial(d, 2)))]
    if layer_type in ("BatchNorm1d", "BatchNorm2d", "LayerNorm"):
        rank = d(st.integers(2, 4))
        return {}, [TensorInfo((BATCH, *(d(small) for _ in range(rank - 1))))]
    if layer_type in ("LSTM", "GRU", "RNN"):
        params = {
            "hidden_size": d(st.integers(1, 6)),
            "num_layers": d(st.integers(1, 2)),
            "bidirectional": d(st.booleans()),
            "output": d(st.sampled_from(["sequence", "last", "final"])),
        }
        if layer_type == "RNN":
            params["nonlinearity"] = d(st.sampled_from(["tanh", "relu"]))
        rank = 3  # torch reads 2-d input as one unbatched sequence; we are always batch-first
        return params, [TensorInfo((BATCH, *(d(small) for _ in range(rank - 1))))]
    if layer_type == "Embedding":
        rank = d(st.integers(1, 3))
        shape = (BATCH, *(d(small) for _ in range(rank - 1)))
        return {"num_embeddings": 20, "embedding_dim": d(small)}, [TensorInfo(shape, "long")]
    if layer_type == "SequencePool":
        shape = (BATCH, d(small), d(small))
        inputs = [TensorInfo(shape)]
        if d(st.booleans()):  # the token ids (other lengths: refused, tested below)
            inputs.append(TensorInfo((BATCH, shape[1]), "long"))
        return {"mode": d(st.sampled_from(["mean", "max"]))}, inputs
    if layer_type == "Transpose":
        rank = d(st.integers(2, 4))
        dims = st.sampled_from([*range(1, rank + 1), *range(-rank + 1, 0)])  # 0: refused
        shape = (BATCH, *(d(small) for _ in range(rank - 1)))
        return {"dim0": d(dims), "dim1": d(dims)}, [TensorInfo(shape)]
    if layer_type == "Flatten":
        rank = d(st.integers(2, 5))
        params = {"start_dim": d(st.integers(1, 4)), "end_dim": d(st.integers(-4, 4))}
        return params, [TensorInfo((BATCH, *(d(small) for _ in range(rank - 1))))]
    if layer_type == "Reshape":
        target = d(st.lists(st.integers(1, 6), min_size=1, max_size=3))
        if d(st.booleans()):
            target[d(st.integers(0, len(target) - 1))] = -1
        return {"shape": target}, [TensorInfo((BATCH, *(d(small) for _ in range(2))))]
    if layer_type in ("Add", "Multiply"):
        shapes = [(BATCH, *(d(st.sampled_from([1, 3, 4])) for _ in range(2))) for _ in range(3)]
        return {}, [TensorInfo(s) for s in shapes]
    if layer_type == "Concat":
        dim = d(st.sampled_from([1, 2, -1]))
        shapes = [(BATCH, *(d(st.sampled_from([2, 3])) for _ in range(2))) for _ in range(2)]
        return {"dim": dim}, [TensorInfo(s) for s in shapes]
    if layer_type in ("Softmax", "LogSoftmax"):
        rank = d(st.integers(2, 4))
        dim = d(st.sampled_from([*range(1, rank + 1), *range(-rank + 1, 0)]))  # never the batch
        return {"dim": dim}, [TensorInfo((BATCH, *(d(small) for _ in range(rank - 1))))]
    extra = more_cases(d, layer_type)
    if extra is not None:
        return extra
    rank = d(st.integers(2, 4))  # activations, Dropout, Identity
    return {}, [TensorInfo((BATCH, *(d(small) for _ in range(rank - 1))))]


def sample(d, rank, low=1, high=6):
    return (BATCH, *(d(st.integers(low, high)) for _ in range(rank - 1)))


def more_cases(d, layer_type):
    """Cases of the layers added for modern architectures (blocks, attention, resizing)."""
    if layer_type in ("Dropout2d", "InstanceNorm2d", "ZeroPad2d", "AdaptiveMaxPool2d"):
        params = {
            "ZeroPad2d": {"padding": d(sizes(4, 0, 2))},
            "AdaptiveMaxPool2d": {"output_size": d(sizes(2, 1, 4))},
            "InstanceNorm2d": {"affine": d(st.booleans())},
        }.get(layer_type, {})
        return params, [TensorInfo(sample(d, 4))]
    if layer_type == "GroupNorm":
        params = {"num_groups": d(st.sampled_from([1, 2, 3, 4]))}
        return params, [TensorInfo(sample(d, d(st.integers(2, 4))))]
    if layer_type == "PReLU":
        shape = sample(d, d(st.integers(2, 4)))
        return {"num_parameters": d(st.sampled_from([1, shape[1], shape[1] + 1]))}, [
            TensorInfo(shape)
        ]
    if layer_type == "Upsample":
        params = {
            "scale_factor": d(st.sampled_from([0.5, 1.5, 2.0, 3.0])),
            "mode": d(st.sampled_from(["nearest", "bilinear"])),
        }
        return params, [TensorInfo(sample(d, d(st.integers(3, 4))))]
    if layer_type in ("MultiheadAttention", "TransformerEncoderLayer"):
        width = d(st.sampled_from([4, 6, 8]))
        heads = d(st.sampled_from([1, 2, 3, 4]))
        query = TensorInfo((BATCH, d(st.integers(1, 5)), width))
        if layer_type == "TransformerEncoderLayer":
            return {"nhead": heads, "dim_feedforward": d(st.integers(1, 8))}, [query]
        if d(st.booleans()):
            return {"num_heads": heads}, [query]
        length = d(st.integers(1, 5))
        key = TensorInfo((BATCH, length, width))
        value = TensorInfo((BATCH, d(st.sampled_from([length, length + 1])), width))
        return {"num_heads": heads}, [query, key, value]
    if layer_type in ("PositionalEmbedding", "ClassToken"):
        params = {"max_length": d(st.integers(1, 6))} if layer_type != "ClassToken" else {}
        return params, [TensorInfo(sample(d, 3))]
    if layer_type == "Permute":
        rank = d(st.integers(2, 4))
        order = d(st.permutations(range(1, rank)))
        if d(st.booleans()):  # a wrong order: a dimension twice, or too many
            order = [*order[:-1], order[0]] if len(order) > 1 else [1, 2]
        return {"dims": list(order)}, [TensorInfo(sample(d, rank))]
    if layer_type in ("Mean", "Sum", "Max"):
        rank = d(st.integers(2, 4))
        dims = d(st.lists(st.integers(1, rank), min_size=1, max_size=2))
        return {"dims": dims, "keepdim": d(st.booleans())}, [TensorInfo(sample(d, rank))]
    if layer_type == "Squeeze":
        shape = list(sample(d, d(st.integers(2, 4))))
        dim = d(st.integers(1, len(shape) - 1))
        shape[dim] = 1
        negative = d(st.booleans())
        return {"dim": dim - len(shape) if negative else dim}, [TensorInfo(tuple(shape))]
    if layer_type == "Unsqueeze":
        rank = d(st.integers(2, 4))
        dim = d(st.sampled_from([*range(1, rank + 1), *range(-rank, 0)]))
        return {"dim": dim}, [TensorInfo(sample(d, rank))]
    if layer_type == "Chunk":
        rank = d(st.integers(2, 4))
        params = {
            "chunks": d(st.integers(1, 5)),
            "dim": d(st.integers(1, rank - 1)),
            "index": d(st.integers(0, 4)),
        }
        return params, [TensorInfo(sample(d, rank))]
    if layer_type == "Subtract":
        shapes = [(BATCH, *(d(st.sampled_from([1, 3, 4])) for _ in range(2))) for _ in range(2)]
        return {}, [TensorInfo(s) for s in shapes]
    if layer_type == "MatMul":
        n, k, m = (d(st.integers(1, 4)) for _ in range(3))
        other = d(st.sampled_from([k, k + 1]))
        lead = [d(st.sampled_from([1, 2])) for _ in range(d(st.integers(0, 1)))]
        return {}, [TensorInfo((BATCH, *lead, n, k)), TensorInfo((BATCH, *lead, other, m))]
    if layer_type == "Scale":
        return {"factor": d(st.floats(-3, 3))}, [TensorInfo(sample(d, d(st.integers(2, 4))))]
    return None


RULE_LAYERS = [t for t, s in CATALOG.items() if s.shape is not None]


def by_torch(node, params, inputs, counter=None):
    """Run the layer for real on tiny CPU tensors (meta kernels skip some of torch's checks)."""
    scope = base_namespace()
    constructor = node.spec.constructor(params)
    names = [f"x{i}" for i in range(len(inputs))]
    for name, info in zip(names, inputs, strict=True):
        scope[name] = torch.zeros(info.shape, dtype=TORCH_DTYPES[info.dtype])
    try:
        scope["layer"] = eval(constructor, scope) if constructor else None
        with torch.no_grad(), counter or contextlib.nullcontext():
            out = eval(node.spec.forward("layer", names, params), scope)
    except (RuntimeError, ValueError, IndexError, AssertionError) as exc:  # torch asserts too
        raise ShapeError(str(exc)) from None
    if 0 in out.shape:
        raise ShapeError("empty output")
    kind = "long" if out.dtype == torch.int64 else "float"
    return TensorInfo(tuple(out.shape), kind)


@pytest.mark.parametrize("layer_type", RULE_LAYERS)
@given(data=st.data())
def test_rule_matches_meta_execution(layer_type, data):
    params, inputs = data.draw(case(layer_type))
    node = Graph().make_node(layer_type, params)
    resolved, _ = resolve_params(node, inputs)
    try:
        expected = node.spec.shape(resolved, inputs)
    except ShapeError:
        with pytest.raises(ShapeError):
            by_torch(node, resolved, inputs)
        return
    counter = FlopCounterMode(display=False)
    assert by_torch(node, resolved, inputs, counter) == expected
    macs = node.spec.macs(resolved, inputs, expected) if node.spec.macs else 0
    assert 2 * macs == counter.get_total_flops() + 2 * uncounted(layer_type, inputs, macs)


def uncounted(layer_type, inputs, macs) -> int:
    """The multiply-accumulates of the CPU kernels FlopCounterMode has no formula for: the
    LSTM's, and the fused attention of nn.MultiheadAttention (its projections are counted)."""
    if layer_type == "LSTM":
        return macs
    if layer_type == "MultiheadAttention":
        query, key = inputs[0], inputs[-1]
        return 2 * query.shape[0] * query.shape[1] * key.shape[1] * query.shape[2]
    return 0


def test_sequence_pool_refuses_ids_that_do_not_match_the_sequence():
    """torch would broadcast a [N, 1, D] sequence against [N, T] ids: the rule says it."""
    node = Graph().make_node("SequencePool", {})
    inputs = [TensorInfo((BATCH, 1, 4)), TensorInfo((BATCH, 6), "long")]
    with pytest.raises(ShapeError, match="second input is the token ids") as error:
        node.spec.shape(node.params, inputs)
    assert error.value.port == 1


def test_sequence_pool_leaves_padding_out():
    scope = base_namespace()
    x = torch.tensor([[[1.0], [3.0], [100.0]], [[5.0], [-2.0], [7.0]], [[9.0], [9.0], [9.0]]])
    ids = torch.tensor([[4, 2, 0], [1, 1, 1], [0, 0, 0]])
    scope.update(x=x, t=ids)
    for mode, expected in (("mean", [2.0, 10 / 3, 0.0]), ("max", [3.0, 7.0, 0.0])):
        node = Graph().make_node("SequencePool", {"mode": mode})
        out = eval(node.spec.forward("layer", ["x", "t"], node.params), scope)
        assert out[:, 0].tolist() == pytest.approx(expected)


@pytest.mark.parametrize("merge", ["Add", "Multiply", "Concat"])
def test_merges_refuse_float_and_integer_inputs_together(merge):
    node = Graph().make_node(merge, {})
    inputs = [TensorInfo((2, 3), "long"), TensorInfo((2, 3))]
    with pytest.raises(ShapeError, match="float and integer inputs") as refused:
        node.spec.shape(node.params, inputs)
    assert refused.value.port == 1


@pytest.mark.parametrize("layer_type", ["LSTM", "GRU", "RNN"])
def test_the_final_state_joins_both_directions_of_the_top_layer(layer_type):
    scope = base_namespace()
    params = {"input_size": 3, "hidden_size": 4, "num_layers": 2, "bidirectional": True}
    node = Graph().make_node(layer_type, {**params, "output": "final"})
    scope["layer"] = layer = eval(node.spec.constructor(node.params), scope)
    scope["x"] = x = torch.randn(2, 5, 3)
    out = eval(node.spec.forward("layer", ["x"], node.params), scope)
    state = layer(x)[1]
    h = state[0] if layer_type == "LSTM" else state
    assert torch.equal(out, torch.cat([h[-2], h[-1]], 1))
    assert not torch.equal(out, layer(x)[0][:, -1])  # the backward half differs from out[:, -1]
