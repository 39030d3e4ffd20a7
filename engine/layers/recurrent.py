"""Recurrent layers. They always run batch-first: input [N, time, features].

What a layer gives (`output`): every step's output [N, time, hidden x directions]; the
output at the last step `out[:, -1]`; or the final hidden state of the top layer, both
directions joined, [N, hidden x directions] (for a bidirectional layer the backward
direction's state after reading the whole sequence, not after one step as at out[:, -1]).
"""

from engine.layers.params import Param
from engine.layers.rules import require_float, require_rank
from engine.layers.spec import LayerSpec, TensorInfo

SEQUENCE_HINT = " Feed it a sequence, e.g. from an Embedding or a Reshape."
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}


def _macs(name: str):
    """Per time step, layer and direction: each gate's products with the layer's input
    and with the hidden state."""

    def count(params, inputs, out):
        batch, steps, features = inputs[0].shape
        hidden, directions = params["hidden_size"], 2 if params["bidirectional"] else 1
        total, width = 0, features
        for _ in range(params["num_layers"]):
            total += GATES[name] * hidden * (width + hidden) * directions
            width = hidden * directions
        return batch * steps * total

    return count


def _recurrent(name: str, summary: str, *extra: Param) -> LayerSpec:
    def rule(params, inputs):
        x = inputs[0]
        require_rank(name, x, (3,), SEQUENCE_HINT, layout="[N, time, features]")
        require_float(name, x)
        width = params["hidden_size"] * (2 if params["bidirectional"] else 1)
        if params["output"] in ("last", "final"):
            return TensorInfo((x.shape[0], width))
        return TensorInfo((x.shape[0], x.shape[1], width))

    def forward(target, args, values):
        if values["output"] == "final":
            state = f"{target}({args[0]})[1]" + ("[0]" if name == "LSTM" else "")
            if values["bidirectional"]:  # forward then backward, as torch.cat would join them
                return f"{state}[-2:].transpose(0, 1).flatten(1)"
            return f"{state}[-1]"
        call = f"{target}({args[0]})[0]"
        return f"{call}[:, -1]" if values["output"] == "last" else call

    return LayerSpec(
        type=name,
        category="Recurrent",
        summary=summary,
        params=(
            Param(
                "input_size",
                "int",
                None,
                "Features per time step; auto fills it in.",
                min=1,
                max=1_000_000,
                inferred=True,
                positional=True,
            ),
            Param(
                "hidden_size",
                "int",
                64,
                "Size of the hidden state.",
                min=1,
                max=1_000_000,
                positional=True,
            ),
            Param("num_layers", "int", 1, "Stacked recurrent layers.", min=1, max=64),
            Param("bidirectional", "bool", False, "Also read the sequence backwards."),
            Param("dropout", "float", 0.0, "Dropout between stacked layers.", min=0.0, max=1.0),
            *extra,
            Param(
                "output",
                "choice",
                "sequence",
                "sequence: every time step [N, time, hidden]; last: the output at the last "
                "step [N, hidden]; final: the top layer's final hidden state, both "
                "directions after reading the whole sequence [N, hidden].",
                choices=("sequence", "last", "final"),
                arg=False,
            ),
        ),
        module=f"nn.{name}",
        fixed_args=("batch_first=True",),
        forward=forward,
        shape=rule,
        infer=lambda inputs: {"input_size": inputs[0].shape[-1]},
        label=name.lower(),
        macs=_macs(name),
    )


SPECS = (
    _recurrent("LSTM", "Long short-term memory over a sequence."),
    _recurrent("GRU", "Gated recurrent unit over a sequence."),
    _recurrent(
        "RNN",
        "Plain (Elman) recurrent layer over a sequence.",
        Param(
            "nonlinearity",
            "choice",
            "tanh",
            "The activation of each step.",
            choices=("tanh", "relu"),
        ),
    ),
)
