"""Structured pruning: a trained AlexNet48 cut to narrower convolutions, keeping the channels that carry the most.

The shipped net spends its 29 M multiply-adds mostly in conv2 and conv3 (MODEL_CARD.md); a browser frame pays them
once per face. Cutting whole output channels keeps the net a plain AlexNet48 (the same ops, the same export, the same
Rust code) and keeps most of what it learned, so a short distillation from the teachers recovers the rest, where a
slimmer net trained from scratch needs the full 100-epoch schedule (Li et al. 2017, "Pruning filters for efficient
ConvNets"; Liu et al. 2017, "Network slimming").

A channel's importance is what it hands the next layer: its mean activation (after batch-norm and ReLU, over a
calibration set) times the L2 norm of the next layer's weights that read it. Channels that are rarely on, or that
the next layer barely reads, go first.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .models import AlexNet48


def channel_importance(model: AlexNet48, calib: torch.Tensor) -> list[torch.Tensor]:
    """For each convolution, one score per output channel (see the module's doc)."""
    convs, bns, lins = model.layers()
    means: dict[nn.BatchNorm2d, torch.Tensor] = {}

    def hook(m, _inp, out):
        act = out.detach().clamp_min(0).transpose(0, 1).reshape(out.shape[1], -1)
        means[m] = means.get(m, 0) + act.sum(1).double()

    hooks = [bn.register_forward_hook(hook) for bn in bns]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for i in range(0, len(calib), 512):
            model(calib[i:i + 512])
    model.train(was_training)
    for h in hooks:
        h.remove()

    scores = []
    for i, bn in enumerate(bns):
        if i + 1 < len(convs):
            reads = convs[i + 1].weight.detach().transpose(0, 1).reshape(bn.num_features, -1)
        else:  # the last convolution feeds fc1 through a 3x3 map flattened channel by channel
            reads = lins[0].weight.detach().reshape(lins[0].out_features, bn.num_features, -1).transpose(0, 1)
            reads = reads.reshape(bn.num_features, -1)
        scores.append(means[bn] * reads.double().norm(dim=1))
    return scores


def prune(model: AlexNet48, widths: tuple[int, ...], calib: torch.Tensor, dropout: float) -> AlexNet48:
    """A new AlexNet48 with `widths` convolution channels: the most important of `model`'s, weights copied."""
    convs, bns, lins = model.layers()
    old = tuple(c.out_channels for c in convs)
    if len(widths) != len(old) or any(n < 1 or n > o for n, o in zip(widths, old)):
        raise ValueError(f"widths {widths} must be 5 positive counts, each at most the model's {old}")
    fc = (lins[0].out_features, lins[1].out_features)
    slim = AlexNet48(num_classes=lins[-1].out_features, widths=widths, fc=fc, dropout=dropout)
    s_convs, s_bns, s_lins = slim.layers()
    # keep channels in their original order: the kept net reads like the old one with channels removed
    keep = [s.argsort(descending=True)[:n].sort().values for s, n in zip(channel_importance(model, calib), widths)]
    with torch.no_grad():
        prev = torch.arange(convs[0].in_channels)
        for conv, bn, s_conv, s_bn, k in zip(convs, bns, s_convs, s_bns, keep):
            s_conv.weight.copy_(conv.weight[k][:, prev])
            for name in ("weight", "bias", "running_mean", "running_var"):
                getattr(s_bn, name).copy_(getattr(bn, name)[k])
            prev = k
        spatial = lins[0].in_features // convs[-1].out_channels
        cols = (prev[:, None] * spatial + torch.arange(spatial)[None, :]).reshape(-1)
        s_lins[0].weight.copy_(lins[0].weight[:, cols])
        s_lins[0].bias.copy_(lins[0].bias)
        for lin, s_lin in zip(lins[1:], s_lins[1:]):
            s_lin.weight.copy_(lin.weight)
            s_lin.bias.copy_(lin.bias)
    return slim
