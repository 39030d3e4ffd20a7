"""The trainer, what it needs (losses, metrics, optimizers, devices, checkpoints) and a
run prepared from a project."""
