"""One trunk, two heads: forward() returns a tuple."""

from torch import nn


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(12, 32)
        self.act = nn.GELU()
        self.classify = nn.Linear(32, 5)
        self.regress = nn.Linear(32, 1)

    def forward(self, x):
        h = self.act(self.trunk(x))
        logits = self.classify(h)
        value = self.regress(h)
        return logits, value
