"""Metrics against confusion matrices computed by hand."""

import numpy as np
import pytest

from emoji_train.metrics import classification_metrics, confusion_matrix


def test_three_class_example_by_hand():
    y_true = [0, 0, 0, 1, 1, 2]
    y_pred = [0, 0, 1, 1, 2, 2]
    cm = confusion_matrix(y_true, y_pred, 3)
    assert cm.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    m = classification_metrics(y_true, y_pred, 3)
    # precision: 2/2, 1/2, 1/2; recall: 2/3, 1/2, 1/1
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["precision"] == pytest.approx([1.0, 0.5, 0.5])
    assert m["recall"] == pytest.approx([2 / 3, 0.5, 1.0])
    f1 = [2 * 1 * (2 / 3) / (1 + 2 / 3), 0.5, 2 * 0.5 / 1.5]
    assert m["f1"] == pytest.approx(f1)
    assert m["macro_precision"] == pytest.approx(2 / 3)
    assert m["macro_recall"] == pytest.approx((2 / 3 + 0.5 + 1) / 3)
    assert m["macro_f1"] == pytest.approx(sum(f1) / 3)


def test_constant_predictor_scores_its_class_share():
    # the PublicTest (val) class counts; always answering "happy" (index 3)
    counts = [467, 56, 496, 895, 607, 653, 415]
    y_true = np.repeat(np.arange(7), counts)
    m = classification_metrics(y_true, np.full(len(y_true), 3), 7)
    share = 895 / sum(counts)
    assert m["accuracy"] == pytest.approx(share)  # ~25%, nothing like the 0.98 of a buggy report
    assert m["macro_recall"] == pytest.approx(1 / 7)
    assert m["macro_precision"] == pytest.approx(share / 7)
    assert m["macro_f1"] == pytest.approx((2 * share / (1 + share)) / 7)
    assert m["recall"][3] == 1.0 and m["precision"][0] == 0.0  # never predicted: 0, not NaN


def test_absent_class_gives_zero_not_nan():
    m = classification_metrics([0, 0], [0, 1], 3)
    assert not any(np.isnan(m["f1"])) and m["recall"][2] == 0.0 and m["support"] == [2, 0, 0]
