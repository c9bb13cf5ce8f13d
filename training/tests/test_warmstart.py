"""The campaign's warm start: the shipped float ONNX back into a trainable net computes the same function."""

import numpy as np
import pytest
import torch

from conftest import REPO
from emoji_train import data as D
from emoji_train.export import ort_logits
from emoji_train.warmstart import model_from_onnx

SHIPPED = REPO / "models" / "emotion_fp32.onnx"


@pytest.fixture(scope="module")
def faces(tiny_fer, contract):
    s = D.load_split(tiny_fer, "val", contract)
    return torch.from_numpy(contract.to_input(s.images))


def test_eval_mode_is_the_onnx_model(faces, contract):
    model = model_from_onnx(SHIPPED, faces, dropout=0.0, num_classes=contract.num_classes).eval()
    with torch.no_grad():
        ours = model(faces).numpy()
    ref = ort_logits(SHIPPED, faces.numpy())
    assert np.abs(ours - ref).max() < 1e-3
    assert (ours.argmax(1) == ref.argmax(1)).all()


def test_train_mode_on_the_calibration_batch_is_the_same_function(faces, contract):
    """BN's statistics come from the calibration set, so a training-mode pass over it changes nothing."""
    model = model_from_onnx(SHIPPED, faces, dropout=0.0, num_classes=contract.num_classes)
    with torch.no_grad():
        evaluated = model.eval()(faces)
        trained = model.train()(faces)
    assert torch.allclose(evaluated, trained, atol=1e-3), (evaluated - trained).abs().max()


def test_a_quantized_model_is_refused(contract, faces):
    with pytest.raises(ValueError, match="float export"):
        model_from_onnx(REPO / "models" / "emotion_int8.onnx", faces, dropout=0.0, num_classes=contract.num_classes)
