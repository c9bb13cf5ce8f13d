"""Structured pruning (emoji_train/prune.py): the channels kept are the ones the net uses, their weights copied."""

import pytest
import torch

from conftest import REPO, run_train
from emoji_train.models import PRUNED_WIDTHS, AlexNet48, build_model, count_macs
from emoji_train.prune import prune
from test_train import TINY

FULL = (32, 64, 96, 128, 128)


@pytest.fixture(scope="module")
def trained_like():
    """A full-width net in eval mode whose batch-norm statistics are not the identity, and inputs for it."""
    torch.manual_seed(0)
    model = AlexNet48(num_classes=7, widths=FULL, dropout=0.0)
    with torch.no_grad():
        for bn in (m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            bn.running_mean.uniform_(-0.2, 0.2)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.1, 0.3)
    return model.eval(), torch.randn(64, 1, 48, 48)


def test_keeping_every_channel_is_the_same_net(trained_like):
    model, x = trained_like
    kept = prune(model, FULL, x, dropout=0.0).eval()
    with torch.no_grad():
        assert torch.equal(kept(x), model(x))


def test_channels_that_never_fire_go_first_and_the_function_stays(trained_like):
    """Channels whose ReLU is always off carry nothing: cutting exactly those leaves the outputs unchanged."""
    model, x = trained_like
    dead = {0: [3, 17], 1: [5, 40, 41], 4: [0, 127]}  # conv index -> channels
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for layer, channels in dead.items():
            bns[layer].bias[channels] = -1e6
        widths = tuple(w - len(dead.get(i, [])) for i, w in enumerate(FULL))
        slim = prune(model, widths, x, dropout=0.0).eval()
        assert torch.allclose(slim(x), model(x), atol=1e-5), (slim(x) - model(x)).abs().max()
    assert [m.out_channels for m in slim.modules() if isinstance(m, torch.nn.Conv2d)] == list(widths)


@pytest.mark.parametrize("arch, cost", [("alexnet-48-slim", (0.5, 0.6)), ("alexnet-48-lean", (0.68, 0.76))])
def test_the_pruned_widths_cost_what_their_archs_say(trained_like, arch, cost):
    model, x = trained_like
    pruned = prune(model, PRUNED_WIDTHS[arch], x, dropout=0.0)
    ratio = count_macs(pruned) / count_macs(model)
    assert cost[0] < ratio < cost[1], ratio
    # the arch built from scratch is the pruned net's shape, so its checkpoints load into either
    shapes = {k: v.shape for k, v in build_model(arch, 7).state_dict().items()}
    assert {k: v.shape for k, v in pruned.state_dict().items()} == shapes


def test_widths_beyond_the_nets_are_refused(trained_like):
    model, x = trained_like
    for widths in [(33, 64, 96, 128, 128), (32, 64, 96, 128), (32, 0, 96, 128, 128)]:
        with pytest.raises(ValueError, match="at most the model's"):
            prune(model, widths, x, dropout=0.0)


def test_a_slim_run_starts_from_the_shipped_weights_pruned(tiny_fer, tmp_path):
    p = run_train([*TINY, "--data", tiny_fer, "--epochs", 1, "--arch", "alexnet-48-slim",
                   "--init", REPO / "models" / "emotion_fp32.onnx", "--out", tmp_path / "slim"])
    assert "warm start from" in p.stdout
    assert "model alexnet-48-slim" in p.stdout and "16,002,816 MACs" in p.stdout, p.stdout
