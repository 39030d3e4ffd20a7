"""Activation functions. They hold no weights, so they are written inline in forward()
(`x = torch.relu(x)`) rather than as submodules, except as the steps of an nn.Sequential
(`nn.ReLU()`)."""

from engine.layers.params import Param
from engine.layers.rules import check_dim, float_same_shape, require_float
from engine.layers.spec import LayerSpec, ShapeError


def _activation(name: str, summary: str, call: str, params=()) -> LayerSpec:
    def options(values):
        return [f"{p.name}={values[p.name]!r}" for p in params if values[p.name] != p.default]

    def forward(target, args, values):
        return f"{call}({', '.join([args[0], *options(values)])})"

    return LayerSpec(
        type=name,
        category="Activation",
        summary=summary,
        params=tuple(params),
        forward=forward,
        shape=float_same_shape(name),
        label=name.lower(),
        uses=(_package(call),),
        as_module=lambda values: f"nn.{name}({', '.join(options(values))})",
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
        as_module=lambda values: f"nn.{name}(dim={values['dim']})",
    )


def _prelu_rule(params, inputs):
    x = inputs[0]
    require_float("PReLU", x)
    count = params["num_parameters"]
    if count != 1 and (len(x.shape) < 2 or x.shape[1] != count):
        raise ShapeError(
            f"PReLU learns 1 slope or one per channel; {count} slopes do not fit the "
            f"channels of {x.describe()}.",
            port=0,
        )
    return x


PRELU = LayerSpec(
    type="PReLU",
    category="Activation",
    summary="x for x > 0, else a learned slope times x (one slope, or one per channel).",
    params=(
        Param("num_parameters", "int", 1, "1, or the number of channels.", min=1, positional=True),
        Param("init", "float", 0.25, "The slopes' starting value."),
    ),
    module="nn.PReLU",
    shape=_prelu_rule,
    label="prelu",
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
    _activation("ReLU6", "min(max(0, x), 6), as in MobileNets.", "F.relu6"),
    _activation("Hardswish", "x * ReLU6(x + 3) / 6: a cheap swish (MobileNetV3).", "F.hardswish"),
    _activation("Hardsigmoid", "ReLU6(x + 3) / 6: a cheap sigmoid (MobileNetV3).", "F.hardsigmoid"),
    _activation("Mish", "x * tanh(softplus(x)).", "F.mish"),
    _activation(
        "Softplus",
        "log(1 + exp(beta * x)) / beta: a smooth ReLU.",
        "F.softplus",
        (
            Param("beta", "float", 1.0, "Sharpness: larger is closer to ReLU.", min=1e-3),
            Param("threshold", "float", 20.0, "Above this (times beta) it is x itself.", min=0.0),
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
    PRELU,
    _softmax("Softmax", "torch.softmax", "Turns scores into probabilities along dim."),
    _softmax("LogSoftmax", "torch.log_softmax", "Log of softmax (pairs with NLLLoss)."),
)
