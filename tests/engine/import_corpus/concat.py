"""Two branches joined by torch.cat, a sigmoid gate (`*`) and a flatten."""

import torch
import torch.nn.functional as F
from torch import nn


class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 4, 3, padding=1)
        self.pool = nn.MaxPool1d(2)
        self.branch_a = nn.Linear(32, 16)
        self.branch_b = nn.Linear(32, 8)
        self.norm = nn.LayerNorm(24, eps=1e-6)
        self.act = nn.LeakyReLU(0.2)
        self.gate = nn.Linear(24, 24)
        self.head = nn.Linear(24, 3)

    def forward(self, x):
        x = torch.flatten(self.pool(self.conv(x)), 1)
        a = F.gelu(self.branch_a(x), approximate="tanh")
        b = torch.tanh(self.branch_b(x))
        h = self.act(self.norm(torch.cat([a, b], dim=1)))
        h = h * torch.sigmoid(self.gate(h))
        return self.head(h)


class SameTensorTwice(nn.Module):
    """x * x and torch.cat([h, h]): one tensor twice into one layer."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        h = x * x
        return self.fc(torch.cat([h, h], dim=1))
