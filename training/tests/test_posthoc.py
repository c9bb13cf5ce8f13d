"""Post-hoc levers: logit adjustment folded into the last bias, and the flip/τ table."""

import numpy as np
import torch

from emoji_train import posthoc as P
from emoji_train.models import build_model


def test_adjustment_folded_into_the_bias_shifts_the_logits_by_tau_log_prior():
    torch.manual_seed(0)
    model = build_model("alexnet-48", 7, 0.0).eval()
    x = torch.randn(5, 1, 48, 48)
    prior = P.class_prior(np.array([0, 0, 0, 1, 2, 3, 3, 4, 5, 6, 6, 6]), 7)
    with torch.no_grad():
        before = model(x)
        model.load_state_dict(P.fold_into_bias(model.state_dict(), prior, 0.5))
        after = model(x)
    assert torch.allclose(after, before - 0.5 * torch.from_numpy(np.log(prior)).float(), atol=1e-5)


def test_table_rows_and_the_untouched_row_is_plain_argmax():
    rng = np.random.default_rng(0)
    logits = torch.from_numpy(rng.normal(size=(50, 7))).float()
    y = rng.integers(0, 7, 50)
    prior = np.full(7, 1 / 7)
    rows = P.table(logits, logits.flip(0), y, prior, taus=(0.0, 1.0))
    assert [(r["flip"], r["tau"]) for r in rows] == [(False, 0.0), (False, 1.0), (True, 0.0), (True, 1.0)]
    plain = float((logits.argmax(1).numpy() == y).mean())
    assert rows[0]["accuracy"] == plain and rows[1]["accuracy"] == plain  # a flat prior changes nothing
