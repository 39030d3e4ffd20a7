"""What users take away: model.py and train.py, weights files, TorchScript and ONNX."""
