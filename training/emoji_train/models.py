"""The AlexNet family: 5 convolutional layers (some followed by max-pooling), then 3 fully-connected layers with dropout.

alexnet-48   the shipped configuration at FER's native 48x48: 3x3 kernels, stride 1, batch-norm, widths chosen so
             the net costs ~29 M MACs (detect + classify fit one 33 ms frame in a browser, and it trains on a CPU).
alexnet-48-slim  alexnet-48 with narrower convolutions (24-48-64-96-96: ~16 M MACs, 0.55x): the shipped net pruned
             channel by channel (emoji_train/prune.py) and distilled, for a phone's frame budget (issue 12).
alexnet-48-lean  the same, less narrow (32-48-80-112-112: ~21 M MACs, 0.72x): conv1 whole, conv2 (the costliest, at
             24x24) at 3/4, the 6x6 and 3x3 layers at 5/6 and 7/8, where a channel costs least.
alexnet-227  faithful to the original AlexNet setup (Krizhevsky et al. 2012): the 48x48 face is upscaled to 227x227
             inside the model, 11x11/4, 5x5, 3x3x3 convs, 3 overlapping max-pools, 4096-4096 FC, dropout 0.5.
             Kept for comparison (~0.7 G MACs); not the shipped net.
vgg-48       a teacher, never shipped: VGG-style pairs of 3x3 convs (64-128-256-512, ~0.46 G MACs, 16x the shipped
             net) whose softened outputs the shipped alexnet-48 learns from (`--teacher`, training on a GPU).

All take the contract's input [N, 1, 48, 48] and return raw logits [N, num_classes].
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1, pad: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, pad, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class AlexNet48(nn.Module):
    """conv1 → pool → conv2 → pool → conv3 → pool → conv4 → conv5 → pool → fc1 → fc2 → fc3."""

    def __init__(self, num_classes: int = 7, widths=(32, 64, 96, 128, 128), fc=(512, 256), dropout: float = 0.5):
        super().__init__()
        c1, c2, c3, c4, c5 = widths
        self.features = nn.Sequential(
            conv_bn(1, c1), nn.MaxPool2d(2),  # 48 → 24
            conv_bn(c1, c2), nn.MaxPool2d(2),  # 24 → 12
            conv_bn(c2, c3), nn.MaxPool2d(2),  # 12 → 6
            conv_bn(c3, c4),
            conv_bn(c4, c5), nn.MaxPool2d(2),  # 6 → 3
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout), nn.Linear(c5 * 3 * 3, fc[0]), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(fc[0], fc[1]), nn.ReLU(inplace=True),
            nn.Linear(fc[1], num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))

    def layers(self) -> tuple[list[nn.Conv2d], list[nn.BatchNorm2d], list[nn.Linear]]:
        """The convolutions, their batch-norms and the dense layers, in graph order."""
        return ([m for m in self.modules() if isinstance(m, nn.Conv2d)],
                [m for m in self.modules() if isinstance(m, nn.BatchNorm2d)],
                [m for m in self.modules() if isinstance(m, nn.Linear)])


class AlexNet227(nn.Module):
    """The original AlexNet layer shapes on a 227x227 upscale of the grey face (one input channel)."""

    def __init__(self, num_classes: int = 7, dropout: float = 0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 96, 11, 4), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),  # 227 → 55 → 27
            nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),  # → 13
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),  # → 6
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=(227, 227), mode="bilinear", align_corners=False)
        return self.classifier(self.features(x))


class Vgg48(nn.Module):
    """Four stages of two 3x3 conv-BN-ReLU and a max-pool (48 → 3), then two fully-connected layers."""

    def __init__(self, num_classes: int = 7, widths=(64, 128, 256, 512), dropout: float = 0.5):
        super().__init__()
        layers, cin = [], 1
        for w in widths:
            layers += [conv_bn(cin, w), conv_bn(w, w), nn.MaxPool2d(2)]
            cin = w
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout), nn.Linear(cin * 3 * 3, 1024), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(1024, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


# The convolution widths of the nets pruned from alexnet-48 (emoji_train/prune.py), by arch name.
PRUNED_WIDTHS = {"alexnet-48-slim": (24, 48, 64, 96, 96), "alexnet-48-lean": (32, 48, 80, 112, 112)}


def _pruned_arch(widths: tuple[int, ...]):
    def build(num_classes: int = 7, dropout: float = 0.5) -> AlexNet48:
        return AlexNet48(num_classes=num_classes, widths=widths, dropout=dropout)

    return build


ARCHS = {"alexnet-48": AlexNet48, **{name: _pruned_arch(w) for name, w in PRUNED_WIDTHS.items()},
         "alexnet-227": AlexNet227, "vgg-48": Vgg48}


def build_model(arch: str, num_classes: int, dropout: float = 0.5) -> nn.Module:
    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}; choose one of {sorted(ARCHS)}")
    return ARCHS[arch](num_classes=num_classes, dropout=dropout)


def load_checkpoint_model(path, weights: str = "model") -> tuple[nn.Module, dict]:
    """A model in eval mode from a best.pt / ckpt.pt written by train.py (or a campaign's state.pt), with the
    checkpoint dict; weights="ema" takes the checkpoint's moving average of the weights instead of its own."""
    from pathlib import Path

    from .contract import DEFAULT_CONTRACT, REPO_ROOT, load_contract

    ck = torch.load(path, map_location="cpu", weights_only=False)
    cfg = ck["config"]
    cpath = Path(cfg.get("contract", DEFAULT_CONTRACT))
    if not cpath.is_absolute() and not cpath.exists():
        cpath = REPO_ROOT / cpath
    model = build_model(cfg["arch"], load_contract(cpath).num_classes, cfg.get("dropout", 0.5))
    if ck.get(weights) is None:
        raise SystemExit(f"{path} has no '{weights}' weights")
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ck[weights].items()})
    return model.eval(), ck


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, input_size: int = 48) -> int:
    """Multiply-accumulates of one forward pass (conv and linear layers; batch 1), by forward hooks."""
    total = 0

    def conv_hook(m: nn.Conv2d, _inp, out):
        nonlocal total
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        total += out.numel() * k

    def lin_hook(m: nn.Linear, _inp, out):
        nonlocal total
        total += out.numel() * m.in_features

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lin_hook))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, input_size, input_size, device=next(model.parameters()).device))  # on the GPU too
    model.train(was_training)
    for h in hooks:
        h.remove()
    return total
