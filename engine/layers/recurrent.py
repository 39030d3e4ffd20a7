"""Recurrent layers. They always run batch-first: input [N, time, features]."""

from engine.layers.params import Param
from engine.layers.rules import require_float, require_rank
from engine.layers.spec import LayerSpec, TensorInfo

SEQUENCE_HINT = " Feed it a sequence, e.g. from an Embedding or a Reshape."


def _recurrent(name: str, summary: str) -> LayerSpec:
    def rule(params, inputs):
        x = inputs[0]
        require_rank(name, x, (3,), SEQUENCE_HINT, layout="[N, time, features]")
        require_float(name, x)
        width = params["hidden_size"] * (2 if params["bidirectional"] else 1)
        if params["output"] == "last":
            return TensorInfo((x.shape[0], width))
        return TensorInfo((x.shape[0], x.shape[1], width))

    def forward(target, args, values):
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
            Param(
                "output",
                "choice",
                "sequence",
                "sequence: every time step [N, time, hidden]; last: the final step [N, hidden].",
                choices=("sequence", "last"),
                arg=False,
            ),
        ),
        module=f"nn.{name}",
        fixed_args=("batch_first=True",),
        forward=forward,
        shape=rule,
        infer=lambda inputs: {"input_size": inputs[0].shape[-1]},
        label=name.lower(),
    )


SPECS = (
    _recurrent("LSTM", "Long short-term memory over a sequence."),
    _recurrent("GRU", "Gated recurrent unit over a sequence."),
)
