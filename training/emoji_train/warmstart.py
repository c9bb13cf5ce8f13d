"""Warm start: the shipped float ONNX model back into a trainable AlexNet48, batch-norm included.

The campaign (training/README.md, "The campaign") continues each session from the weights that ship, so that
a new machine loses nothing: `models/emotion_fp32.onnx` *is* the campaign's state. Its convolutions carry the
batch-norm folded in (W' = W·γ/√(σ²+ε), b' = β − μ·γ/√(σ²+ε)). We put W' into the conv and choose the BN's
statistics from data so that the net computes exactly the ONNX function in eval mode *and* nearly the same in
train mode (where BN uses the batch's statistics): with μ_c, σ²_c the mean and variance of channel c of the
conv output over a calibration set, running_mean = μ, running_var = σ², γ = √(σ²+ε), β = μ + b'. Then
eval: (z − μ)/√(σ²+ε)·γ + β = z + b'; train: the same with the batch's μ, σ² ≈ the calibration set's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from .models import AlexNet48


def _onnx_layers(path: Path) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[tuple[np.ndarray, np.ndarray]]]:
    """(weight, bias) of each Conv and each Gemm, in graph order."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(str(path))
    init = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    convs, gemms = [], []
    for n in m.graph.node:
        if n.op_type in ("Conv", "Gemm"):
            if len(n.input) < 3 or n.input[1] not in init or n.input[2] not in init:
                raise ValueError(f"{path}: {n.op_type} {n.name!r} lacks constant weight and bias "
                                 "(a float export is needed, not a quantized one)")
            w, b = init[n.input[1]], init[n.input[2]]
            if n.op_type == "Gemm":
                trans_b = next((a.i for a in n.attribute if a.name == "transB"), 0)
                gemms.append((w if trans_b else w.T, b))
            else:
                convs.append((w, b))
    return convs, gemms


def model_from_onnx(path: Path, calib: torch.Tensor, dropout: float, num_classes: int) -> AlexNet48:
    """An AlexNet48 (train-ready, BN restored from `calib`: normalised inputs [N, 1, S, S]) computing the ONNX model."""
    convs, gemms = _onnx_layers(path)
    if len(convs) != 5 or len(gemms) != 3:
        raise ValueError(f"{path}: {len(convs)} convs and {len(gemms)} dense layers; alexnet-48 has 5 and 3")
    widths = tuple(w.shape[0] for w, _ in convs)
    fc = (gemms[0][0].shape[0], gemms[1][0].shape[0])
    model = AlexNet48(num_classes=num_classes, widths=widths, fc=fc, dropout=dropout)
    conv_mods, bn_mods, lin_mods = model.layers()
    with torch.no_grad():
        for (w, b), conv, bn in zip(convs, conv_mods, bn_mods):
            if tuple(conv.weight.shape) != w.shape:
                raise ValueError(f"{path}: conv weight {w.shape}, model expects {tuple(conv.weight.shape)}")
            conv.weight.copy_(torch.from_numpy(np.array(w)))
            # BN as "add the folded bias" first (eval mode), to read each conv's output distribution
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
            bn.weight.fill_(1.0)
            bn.bias.copy_(torch.from_numpy(np.array(b)))
        for (w, b), lin in zip(gemms, lin_mods):
            if tuple(lin.weight.shape) != w.shape:
                raise ValueError(f"{path}: dense weight {w.shape}, model expects {tuple(lin.weight.shape)}")
            lin.weight.copy_(torch.from_numpy(np.array(w)))
            lin.bias.copy_(torch.from_numpy(np.array(b)))

    # One eval pass of the exact ONNX function; each BN's input is its conv's output.
    sums: dict[nn.BatchNorm2d, list[torch.Tensor]] = {bn: [] for bn in bn_mods}
    hooks = [bn.register_forward_hook(lambda m, inp, _out: sums[m].append(inp[0].detach())) for bn in bn_mods]
    model.eval()
    with torch.no_grad():
        for i in range(0, len(calib), 512):
            model(calib[i:i + 512])
    for h in hooks:
        h.remove()
    with torch.no_grad():
        for bn in bn_mods:
            z = torch.cat(sums[bn]).transpose(0, 1).reshape(bn.num_features, -1).double()
            mu, var = z.mean(1), z.var(1, unbiased=False)
            folded_bias = bn.bias.double().clone()
            bn.running_mean.copy_(mu)
            bn.running_var.copy_(var)
            bn.weight.copy_((var + bn.eps).sqrt())
            bn.bias.copy_(mu + folded_bias)
    return model
