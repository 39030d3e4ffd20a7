"""Input and Output: where tensors enter and leave the network."""

from engine.layers.params import Param
from engine.layers.spec import LayerSpec, Role

INPUT = LayerSpec(
    type="Input",
    category="Input / Output",
    summary="A tensor fed to the model: one argument of forward().",
    params=(
        Param(
            "shape",
            "shape",
            None,
            "Shape of one sample, without the batch dimension; auto: the data's.",
            from_data=True,
        ),
        Param(
            "dtype",
            "choice",
            "float32",
            "float32 for features and images; int64 for token ids fed to an Embedding.",
            choices=("float32", "int64"),
        ),
    ),
    min_inputs=0,
    max_inputs=0,
    label="x",
    role=Role.INPUT,
)

OUTPUT = LayerSpec(
    type="Output",
    category="Input / Output",
    summary="A tensor returned by the model; several Outputs return a tuple.",
    has_output=False,
    label="out",
    role=Role.OUTPUT,
)

SPECS = (INPUT, OUTPUT)
