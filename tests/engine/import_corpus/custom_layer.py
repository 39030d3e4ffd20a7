"""The user's own layers become Custom nodes; constructor arguments are kept."""

import torch
import torch.nn.functional as F
from torch import nn


class Scale(nn.Module):
    """A learned per-feature scale, starting at `factor`."""

    def __init__(self, factor, features=4):
        super().__init__()
        self.weight = nn.Parameter(torch.full((features,), float(factor)))

    def forward(self, x):
        return x * self.weight


class Swish(nn.Module):
    def forward(self, x):
        return x * F.sigmoid(x)


class WithCustom(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 16)
        self.scale = Scale(2.0, features=16)
        self.act = Swish()
        self.scale2 = Scale(0.5, 16)
        self.fc2 = nn.Linear(16, 1)

    def forward(self, x):
        x = self.act(self.scale(self.fc1(x)))
        return self.fc2(self.scale2(x))
