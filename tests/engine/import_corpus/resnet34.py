"""A ResNet-34 written the usual way: BasicBlocks with a 1x1 downsample where the
shape changes, four stages of 3, 4, 6 and 3 blocks."""

from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, in_channels: int, channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample = None
        if stride != 1 or in_channels != channels:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(channels),
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet34(nn.Module):
    def __init__(self, num_classes: int = 10, width: int = 8):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        blocks, channels = [], width
        for stage, count in enumerate((3, 4, 6, 3)):
            out = width * 2**stage
            for i in range(count):
                blocks.append(BasicBlock(channels, out, stride=2 if stage and not i else 1))
                channels = out
        self.layers = nn.Sequential(*blocks)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.avgpool(self.layers(x))
        return self.fc(x.flatten(1))


class FlatResNet34(nn.Module):
    """The same network with its blocks' layers held by the model itself, so that the
    import is one layer per operation, with an Add for every shortcut."""

    def __init__(self, num_classes: int = 10, width: int = 8):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        self.blocks = nn.ModuleList()
        self.shortcuts = nn.ModuleList()
        channels = width
        for stage, count in enumerate((3, 4, 6, 3)):
            out = width * 2**stage
            for i in range(count):
                stride = 2 if stage and not i else 1
                self.blocks.append(
                    nn.Sequential(
                        nn.Conv2d(channels, out, 3, stride=stride, padding=1, bias=False),
                        nn.BatchNorm2d(out),
                        nn.ReLU(inplace=True),
                        nn.Conv2d(out, out, 3, padding=1, bias=False),
                        nn.BatchNorm2d(out),
                    )
                )
                changes = stride != 1 or channels != out
                self.shortcuts.append(
                    nn.Sequential(
                        nn.Conv2d(channels, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out)
                    )
                    if changes
                    else nn.Identity()
                )
                channels = out
        self.relu = nn.ReLU(inplace=True)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(channels, num_classes)
        )

    def forward(self, x):
        x = self.stem(x)
        for block, shortcut in zip(self.blocks, self.shortcuts, strict=True):
            identity = x if isinstance(shortcut, nn.Identity) else shortcut(x)
            x = self.relu(block(x) + identity)
        return self.head(x)
