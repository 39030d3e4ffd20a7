"""Fine-tuning a generated model: what its class says to keep frozen and how fast each part
learns, and fitting a pretrained state_dict to it.

A model class may carry `frozen` (names of submodules whose weights stay as they are) and
`lr_multipliers` (submodule name -> multiplier of the learning rate); codegen writes them
from the graph. The app's trainer and the exported train.py both use this module, the
latter holding its source as it is: it needs torch only.
"""

from torch import nn

# Prefixes that wrappers put before a model's keys: DistributedDataParallel, Lightning.
WRAPPER_PREFIXES = ("module.", "model.")


def _stay_in_eval(self, mode=True):
    """`train()` for a frozen BatchNorm: its running statistics stay as loaded."""
    return nn.Module.train(self, False)


def keep_frozen(model):
    """Stop gradients into the model's frozen submodules and keep their batch norms in
    eval mode; returns the number of parameters frozen."""
    count = 0
    for name in getattr(model, "frozen", ()):
        part = model.get_submodule(name)
        for param in part.parameters():
            param.requires_grad_(False)
            count += param.numel()
        for module in part.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.train = _stay_in_eval.__get__(module)
                module.eval()
    return count


def parameter_groups(model, lr):
    """The optimizer's parameter groups: the trainable parameters at `lr`, and those of
    each submodule with a multiplier at lr times it (the plain group first)."""
    scaled, seen = {}, set()
    for name, scale in getattr(model, "lr_multipliers", {}).items():
        for param in model.get_submodule(name).parameters():
            if param.requires_grad and id(param) not in seen:
                scaled.setdefault(scale, []).append(param)
                seen.add(id(param))
    plain = [p for p in model.parameters() if p.requires_grad and id(p) not in seen]
    groups = [{"params": plain, "lr": lr}] if plain else []
    return groups + [{"params": ps, "lr": lr * scale} for scale, ps in scaled.items()]


def unwrapped(weights, expected):
    """A checkpoint's tensors with a wrapper's key prefix taken off when the model's keys
    lack it ("module.conv1.weight" -> "conv1.weight"); and that prefix ("" for none)."""
    if any(key in expected for key in weights):
        return weights, ""
    for prefix in WRAPPER_PREFIXES:
        if weights and all(key.startswith(prefix) for key in weights):
            return {key[len(prefix) :]: value for key, value in weights.items()}, prefix
    return weights, ""


def fitting(weights, expected):
    """(tensors that fit: same name and shape; the model's names the file lacks; the
    file's names the model lacks; (name, file shape, model shape) of those that differ)."""
    fit, mismatched = {}, []
    for key, tensor in weights.items():
        if key in expected:
            if tuple(tensor.shape) == tuple(expected[key].shape):
                fit[key] = tensor
            else:
                mismatched.append((key, tuple(tensor.shape), tuple(expected[key].shape)))
    missing = [key for key in expected if key not in weights]
    unexpected = [key for key in weights if key not in expected]
    return fit, missing, unexpected, mismatched
