"""Two inputs (an image and a feature vector) joined by torch.cat."""

import torch
from torch import nn


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, stride=2)
        self.features = nn.Linear(5, 8)
        self.head = nn.Linear(4 * 3 * 3 + 8, 2)

    def forward(self, image, extra):
        a = torch.relu(self.conv(image)).flatten(1)
        b = torch.relu(self.features(extra))
        return self.head(torch.cat((a, b), 1))


class OptionalMask(nn.Module):
    """An optional forward() argument, left at its default when no shape is given for it."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 2)

    def forward(self, x, mask=None):
        if mask is not None:
            x = x * mask
        return self.fc(x)
