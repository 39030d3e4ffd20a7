"""Operations of modern architectures: depthwise convolutions and MobileNet activations,
attention, normalisations that ignore the batch, resizing and tensor operations."""

import torch
import torch.nn.functional as F
from torch import nn


class MobileBlock(nn.Module):
    def __init__(self, channels: int = 8):
        super().__init__()
        self.expand = nn.Conv2d(3, channels, 1, bias=False)
        self.depthwise = nn.Conv2d(channels, channels, 3, padding=1, groups=channels)
        self.grouped = nn.Conv2d(channels, channels, 1, groups=2)
        self.act = nn.ReLU6()
        self.gate = nn.Hardsigmoid()
        self.swish = nn.Hardswish()
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.head = nn.Linear(channels, 3)

    def forward(self, x):
        x = self.act(self.expand(x))
        x = self.swish(self.depthwise(x)) * self.gate(self.grouped(x))
        return self.head(self.pool(x).flatten(1))


class Attention(nn.Module):
    def __init__(self, width: int = 8):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, 2, batch_first=True)
        self.cross = nn.MultiheadAttention(width, 4, batch_first=True)
        self.norm = nn.LayerNorm(width)
        self.encoder = nn.TransformerEncoderLayer(
            width, 2, dim_feedforward=16, dropout=0.0, batch_first=True, activation="gelu"
        )
        self.head = nn.Linear(width, 2)

    def forward(self, x, memory):
        a, _ = self.attn(x, x, x)
        x = self.norm(x + a)
        c, _ = self.cross(x, memory, memory)
        x = self.encoder(x + c)
        return self.head(x.mean(dim=1))


class Resizing(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.gn = nn.GroupNorm(2, 4)
        self.inorm = nn.InstanceNorm2d(4, affine=True)
        self.drop = nn.Dropout2d(0.1)
        self.pad = nn.ZeroPad2d((1, 0, 2, 1))
        self.up = nn.Upsample(scale_factor=2, mode="bilinear")
        self.prelu = nn.PReLU(4)
        self.soft = nn.Softplus(beta=2.0)
        self.mish = nn.Mish()

    def forward(self, x):
        x = self.inorm(self.gn(self.conv(x)))
        x = self.up(self.pad(self.drop(x)))
        x = F.interpolate(self.prelu(x), scale_factor=0.5)
        x = F.pad(self.mish(self.soft(x)), (1, 1, 1, 1))
        return F.adaptive_max_pool2d(x, 2)


class TensorOps(nn.Module):
    def __init__(self):
        super().__init__()
        self.query = nn.Linear(6, 8)
        self.key = nn.Linear(6, 8)
        self.gated = nn.Linear(6, 16)

    def forward(self, x):
        q, k = self.query(x), self.key(x)
        scores = torch.softmax(q @ k.permute(0, 2, 1) * 0.25, dim=-1)
        value, gate = self.gated(x).chunk(2, dim=-1)
        mixed = torch.matmul(scores, value * torch.sigmoid(gate))
        centred = mixed - mixed.mean(dim=1, keepdim=True)
        pooled = centred.sum(1).unsqueeze(1) + centred.amax(dim=1, keepdim=True)
        return pooled.squeeze(1)
