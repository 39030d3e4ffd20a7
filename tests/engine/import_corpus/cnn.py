"""A LeNet-style CNN: functional pooling and activations, view() to flatten."""

import torch
import torch.nn.functional as F
from torch import nn


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.bn1 = nn.BatchNorm2d(6, eps=1e-3, momentum=0.05)
        self.conv2 = nn.Conv2d(6, 16, (5, 3), stride=1, padding=(0, 1))
        self.fc1 = nn.Linear(16 * 5 * 7, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.avg_pool2d(torch.tanh(self.conv2(x)), kernel_size=2, stride=2)
        x = x.view(x.size(0), -1)
        x = F.silu(self.fc1(x))
        return torch.softmax(self.fc2(x), -1)


class ViewMinusOne(nn.Module):
    """view(-1, n), torch.max_pool2d and x.sigmoid(), as older tutorials write them."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4 * 3 * 3, 2)

    def forward(self, x):
        x = torch.max_pool2d(self.conv(x), 2)
        x = x.view(-1, 4 * 3 * 3)
        return self.fc(x).sigmoid()


class Upsampler(nn.Module):
    """A transposed convolution, average pooling with padding, functional adaptive pooling."""

    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
        self.bn = nn.BatchNorm2d(2, affine=False)
        self.act = nn.Sigmoid()
        self.pool = nn.AvgPool2d(2, stride=1, padding=1)
        self.fc = nn.Linear(2 * 3 * 3, 4)
        self.out = nn.LogSoftmax(dim=-1)

    def forward(self, x):
        x = self.pool(self.act(self.bn(self.up(x))))
        x = F.adaptive_avg_pool2d(x, (3, 3)).flatten(1)
        return self.out(F.leaky_relu(self.fc(x), negative_slope=0.1))


class Signal(nn.Module):
    """1-d convolution, BatchNorm1d, average pooling as a module and as a function."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 5, 3, padding="same", bias=False)
        self.bn = nn.BatchNorm1d(5)
        self.pool = nn.AvgPool1d(2)
        self.skip = nn.Identity()
        self.fc = nn.Linear(5 * 4, 2)

    def forward(self, x):
        x = self.pool(F.gelu(self.bn(self.conv(x))))
        x = F.avg_pool1d(self.skip(x), 2)
        return self.fc(x.reshape(x.size(0), -1))
