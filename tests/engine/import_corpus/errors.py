"""Models that cannot be imported, each for a reason the user must be told."""

import torch
from torch import nn

HIDDEN = 8


class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.norm = nn.Hardtanh()

    def forward(self, x):
        y = torch.einsum("bi,bj->bij", x, x)
        z = self.fc(x) - 1
        return y.logsumexp(1) + self.norm(z)


class NeedsArgs(nn.Module):
    def __init__(self, width, depth):
        super().__init__()
        self.fc = nn.Linear(width, depth)

    def forward(self, x):
        return self.fc(x)


class BadSettings(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, groups=2, padding_mode="reflect", padding=1)
        self.pool = nn.MaxPool2d(2, dilation=2)

    def forward(self, x):
        return self.pool(self.conv(x))


class HiddenState(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 5, batch_first=True)

    def forward(self, x):
        _, (h, c) = self.lstm(x)  # noqa: RUF059
        return h[-1]


class Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(self.fc(x))


class Widen(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, HIDDEN)
        self.shift = nn.Parameter(torch.zeros(HIDDEN))  # no layer holds it: a Custom layer

    def forward(self, x):
        return self.fc(x) + self.shift


class UsesConstant(nn.Module):
    """A layer of the user's own that reads a name from its file."""

    def __init__(self):
        super().__init__()
        self.widen = Widen()
        self.scale = nn.Parameter(torch.ones(HIDDEN))

    def forward(self, x):
        return self.widen(x) * self.scale


class Branching(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        if x.sum() > 0:
            return self.fc(x)
        return x


class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.factor = 1.0
        self.weight = nn.Parameter(torch.ones(4))  # no layer holds it: a Custom layer

    def forward(self, x):
        return x * self.weight * self.factor


class Tweaked(nn.Module):
    """Changes its layer after building it: the import's own check notices."""

    def __init__(self):
        super().__init__()
        self.scale = Scale()
        self.scale.factor = 3.0

    def forward(self, x):
        return self.scale(x)


class Misused(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        y = torch.relu_(x)
        z = torch.nn.functional.dropout(self.fc(x), 0.5)
        w = x.view(x.size(0) * 2, -1)
        return torch.cat([x, x], 0), y, z, w
