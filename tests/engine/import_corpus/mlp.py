"""A multilayer perceptron: modules as plain attributes, mixed with functional calls."""

import torch
import torch.nn.functional as F
from torch import nn


class MLP(nn.Module):
    def __init__(self, hidden: int = 32):
        super().__init__()
        self.fc1 = nn.Linear(784, hidden)
        self.act = nn.ReLU()
        self.drop = nn.Dropout(0.25)
        self.fc2 = nn.Linear(hidden, 16, bias=False)
        self.fc3 = nn.Linear(16, 10)

    def forward(self, x):
        x = self.drop(self.act(self.fc1(x)))
        x = F.relu(self.fc2(x))
        x = torch.relu(x)
        return F.log_softmax(self.fc3(x), dim=1)
