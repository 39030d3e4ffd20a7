"""Data sets for training: built-in, synthetic and imported, held as tensors."""

from engine.data.dataset import DataError, Splits, TensorData

__all__ = ["DataError", "Splits", "TensorData"]
