"""ResNets written here (no CPU torchvision on our machines), with torchvision's parameter names so that
torchvision-format ImageNet weights load directly. HandNet splits them after the third stage.

    stages = resnet_stages("resnet18", in_channels=21)   # stem, layer1..layer4
"""
from __future__ import annotations

import torch
from torch import nn

#: name -> (block, layers per stage)
SPECS = {"resnet18": ("basic", (2, 2, 2, 2)), "resnet34": ("basic", (3, 4, 6, 3)),
         "resnet50": ("bottleneck", (3, 4, 6, 3))}


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int = 1):
        super().__init__()
        out = planes * 4
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != out:
            self.downsample = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class Stem(nn.Module):
    """conv 7x7/2 + BN + ReLU (stride 2, kept as a U-Net skip) then max-pool (stride 4)."""

    def __init__(self, in_channels: int, width: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)

    def forward(self, x):
        s2 = self.relu(self.bn1(self.conv1(x)))
        return s2, self.maxpool(s2)


def _layer(block, cin: int, planes: int, n: int, stride: int) -> tuple[nn.Sequential, int]:
    cls = BasicBlock if block == "basic" else Bottleneck
    blocks = [cls(cin, planes, stride)]
    cout = planes * cls.expansion
    blocks += [cls(cout, planes) for _ in range(n - 1)]
    return nn.Sequential(*blocks), cout


def resnet_stages(name: str, in_channels: int = 3, width: float = 1.0) -> tuple[nn.ModuleDict, list[int]]:
    """The stem and the four stages of a ResNet as a ModuleDict (keys stem, layer1..layer4) and the output
    channels of stem, layer1, layer2, layer3, layer4. ``width`` scales every stage (1.0: the standard nets)."""
    if name not in SPECS:
        raise ValueError(f"unknown backbone {name!r}; choose one of {sorted(SPECS)}")
    block, layers = SPECS[name]
    base = max(8, int(round(64 * width)))
    mods = nn.ModuleDict({"stem": Stem(in_channels, base)})
    channels = [base]
    cin = base
    for i, n in enumerate(layers):
        mods[f"layer{i + 1}"], cin = _layer(block, cin, base * 2 ** i, n, 1 if i == 0 else 2)
        channels.append(cin)
    for m in mods.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return mods, channels


def load_torchvision_resnet(stages: nn.ModuleDict, state_dict: dict, include_layer4: bool = True) -> list[str]:
    """Copy torchvision ResNet ImageNet weights (``conv1.weight``, ``layer1.0.conv1.weight``, ...) into ``stages``.
    A first conv with other input channels (the 21-channel keypoint head) gets the RGB filters' mean, spread over
    its channels. Returns the names that did not match (shape or absence)."""
    own = stages.state_dict()
    skipped, new = [], {}
    for key, value in state_dict.items():
        if key.startswith("fc."):
            continue
        ours = ("stem." + key) if key.split(".")[0] in ("conv1", "bn1") else key
        if not include_layer4 and ours.startswith("layer4"):
            continue
        if ours not in own:
            skipped.append(key)
            continue
        if ours == "stem.conv1.weight" and value.shape[1] != own[ours].shape[1]:
            c = own[ours].shape[1]
            value = value.mean(1, keepdim=True).expand(-1, c, -1, -1) * (3.0 / c)
        if value.shape != own[ours].shape:
            skipped.append(key)
            continue
        new[ours] = value
    stages.load_state_dict(new, strict=False)
    return skipped


def stage_forward(stages: nn.ModuleDict, x: torch.Tensor, upto: int = 3) -> list[torch.Tensor]:
    """[stride-2 stem features, layer1, ..., layer{upto}] outputs."""
    s2, y = stages["stem"](x)
    outs = [s2]
    for i in range(1, upto + 1):
        y = stages[f"layer{i}"](y)
        outs.append(y)
    return outs
