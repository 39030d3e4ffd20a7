"""Activation functions. They hold no weights, so they are written inline in forward()
(`x = torch.relu(x)`) rather than as submodules."""

from engine.layers.params import Param
from engine.layers.rules import check_dim, float_same_shape, require_float
from engine.layers.spec import LayerSpec


def _activation(name: str, summary: str, call: str, params=()) -> LayerSpec:
    def forward(target, args, values):
        extra = ""
        for p in params:
            if values[p.name] != p.default:
                extra += f", {p.name}={values[p.name]!r}"
        return f"{call}({args[0]}{extra})"

    return LayerSpec(
        type=name,
        category="Activation",
        summary=summary,
        params=tuple(params),
        forward=forward,
        shape=float_same_shape(name),
        label=name.lower(),
        uses=(_package(call),),
    )


def _softmax(name: str, call: str, summary: str) -> LayerSpec:
    def rule(params, inputs):
        require_float(name, inputs[0])
        check_dim(name, params["dim"], inputs[0])
        return inputs[0]

    return LayerSpec(
        type=name,
        category="Activation",
        summary=summary,
        params=(Param("dim", "int", 1, "Dimension that sums to one.", min=-8, max=8),),
        forward=lambda target, args, values: f"{call}({args[0]}, dim={values['dim']})",
        shape=rule,
        label=name.lower(),
        uses=(_package(call),),
    )


def _package(call: str) -> str:
    """The import a function is called through: "torch" for torch.relu, "F" for F.gelu."""
    return call.partition(".")[0]


SPECS = (
    _activation("ReLU", "max(0, x).", "torch.relu"),
    _activation(
        "LeakyReLU",
        "x for x > 0, else negative_slope * x.",
        "F.leaky_relu",
        (Param("negative_slope", "float", 0.01, "Slope for negative inputs.", min=0.0),),
    ),
    _activation(
        "GELU",
        "Gaussian error linear unit, as used in Transformers.",
        "F.gelu",
        (
            Param(
                "approximate",
                "choice",
                "none",
                "Exact or tanh approximation.",
                choices=("none", "tanh"),
            ),
        ),
    ),
    _activation("SiLU", "x * sigmoid(x) (also called swish).", "F.silu"),
    _activation(
        "ELU",
        "x for x > 0, else alpha * (exp(x) - 1).",
        "F.elu",
        (Param("alpha", "float", 1.0, "Saturation value for negative inputs.", min=0.0),),
    ),
    _activation("Sigmoid", "1 / (1 + exp(-x)): squashes to (0, 1).", "torch.sigmoid"),
    _activation("Tanh", "Hyperbolic tangent: squashes to (-1, 1).", "torch.tanh"),
    _softmax("Softmax", "torch.softmax", "Turns scores into probabilities along dim."),
    _softmax("LogSoftmax", "torch.log_softmax", "Log of softmax (pairs with NLLLoss)."),
)
