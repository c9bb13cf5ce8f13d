"""Dataset readers: class-folder spellings, the Kaggle CSV label order, unreadable / wrong-size / unknown entries."""

import csv
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import REPO
from emoji_train import data as D
from emoji_train.contract import load_contract

SPELLINGS = {"anger": "angry", "disgusted": "disgust", "fearful": "fear", "happiness": "happy",
             "sadness": "sad", "surprised": "surprise", "neutral": "neutral"}


def _png(path, value, size=48, mode="L"):
    if mode == "L":
        arr = np.full((size, size), value, np.uint8)
    else:
        arr = np.zeros((size, size, 3), np.uint8)
        arr[..., 0], arr[..., 1], arr[..., 2] = value
    Image.fromarray(arr, mode=mode).save(path)


def test_class_folders_accept_every_spelling_and_count_bad_entries(tmp_path, contract):
    for i, folder in enumerate(SPELLINGS):
        (tmp_path / folder).mkdir()
        for k in range(i + 1):  # a different count per class
            _png(tmp_path / folder / f"{k}.png", 10 * i + k)
    (tmp_path / "anger" / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    _png(tmp_path / "happiness" / "big.png", 5, size=64)
    _png(tmp_path / "sadness" / "colour.png", (200, 100, 50), mode="RGB")
    (tmp_path / "contempt").mkdir()
    _png(tmp_path / "contempt" / "x.png", 1)
    (tmp_path / "neutral" / "notes.txt").write_text("not an image, ignored")

    s = D.read_class_folders(tmp_path, contract)
    r = s.report
    assert r["unreadable"] == 1 and r["wrong_size"] == 1 and r["unknown_folders"] == ["contempt"]
    expected = {SPELLINGS[f]: i + 1 for i, f in enumerate(SPELLINGS)}
    expected["sad"] += 1  # the RGB image is read (as BT.601 grey)
    assert r["per_class"] == expected
    assert len(s) == sum(expected.values())
    for i, folder in enumerate(SPELLINGS):  # labels follow the contract's order, whatever the spelling
        first = s.images[:, 0, 0] == 10 * i
        assert set(s.labels[first].tolist()) == {contract.labels.index(SPELLINGS[folder])}
    grey = round(0.299 * 200 + 0.587 * 100 + 0.114 * 50)
    assert (s.images[:, 0, 0] == grey).sum() == 1
    text = D.format_report("x", s)
    assert "1 unreadable" in text and "1 wrong size" in text and "contempt" in text


def test_load_split_reads_split_folders_and_caches(tmp_path, contract):
    for split, n in (("train", 3), ("val", 2)):
        (tmp_path / "d" / split / "happy").mkdir(parents=True)
        for k in range(n):
            _png(tmp_path / "d" / split / "happy" / f"{k}.png", k)
    a = D.load_split(tmp_path / "d", "train", contract)
    b = D.load_split(tmp_path / "d", "train", contract)  # second read from the cache
    assert len(a) == 3 and np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    assert len(list(D.cache_dir().glob("train-train-*.npz"))) >= 1
    assert len(D.load_split(tmp_path / "d", "val", contract)) == 2
    packed = tmp_path / "p.npz"
    assert D.pack(tmp_path / "d", packed, contract) == {"train": 3, "val": 2}
    assert np.array_equal(D.load_split(packed, "train", contract).images, a.images)
    with pytest.raises(FileNotFoundError):
        D.load_split(tmp_path / "missing", "train", contract)


def test_kaggle_csv_label_order_and_bad_rows(tmp_path, contract):
    path = tmp_path / "fer2013.csv"
    rows = []
    for emotion in range(7):
        rows.append((emotion, " ".join([str(emotion * 30)] * 2304), "Training"))
    rows.append((3, " ".join(["7"] * 2304), "PublicTest"))
    rows.append((6, " ".join(["9"] * 2304), "PrivateTest"))
    rows.append((2, " ".join(["1"] * 100), "Training"))  # wrong size
    rows.append((9, " ".join(["1"] * 2304), "Training"))  # no such emotion
    rows.append((1, "a b c", "Training"))  # unreadable pixels
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["emotion", "pixels", "Usage"])
        w.writerows(rows)
    tr = D.load_split(path, "train", contract)
    kaggle = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]  # the CSV's own order
    assert [contract.labels[i] for i in tr.labels] == kaggle
    assert tr.images[4, 0, 0] == 4 * 30 and tr.report["wrong_size"] == 1 and tr.report["unreadable"] == 2
    va = D.load_split(path, "val", contract)
    assert len(va) == 1 and contract.labels[va.labels[0]] == "happy"
    te = D.load_split(tmp_path, "test", contract)  # a folder holding fer2013.csv
    assert len(te) == 1 and contract.labels[te.labels[0]] == "neutral"


def test_contrast_and_equalisation_match_hand_computed_values(contract):
    assert contract.contrast_alpha == 1.2  # the hand values below assume the contract's alpha
    v = np.array([[[0, 5, 100, 212, 213, 255]]], np.uint8)
    assert contract.contrast(v).tolist() == [[[0, 6, 120, 254, 255, 255]]]
    img = np.array([[[10, 10], [20, 30]]], np.uint8)
    # hist 10:2 20:1 30:1, cdf 2 3 4, cdf_min 2: (cdf-2)*255/2 rounded half up
    assert contract.equalize_hist(img).tolist() == [[[0, 0], [128, 255]]]
    flat = np.full((1, 4, 4), 77, np.uint8)
    assert np.array_equal(contract.equalize_hist(flat), flat)
    x = contract.to_input(np.stack([img[0], np.array([[30, 20], [10, 10]], np.uint8)]))
    assert x.shape == (2, 1, 2, 2) and x.dtype == np.float32
    assert np.allclose(x[0, 0, 1, 1], (1.0 - contract.mean) / contract.std)


def test_augmentation_depends_only_on_the_generator():
    x = torch.randn(8, 1, 48, 48)
    cfg = D.AugConfig(flip=0.5, rotate_deg=10, shift=0.1, noise=0.05, erase=0.5)
    a = D.augment(x, cfg, torch.Generator().manual_seed(3))
    b = D.augment(x, cfg, torch.Generator().manual_seed(3))
    c = D.augment(x, cfg, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c) and a.shape == x.shape
    flip_only = D.augment(x, D.AugConfig(flip=1.0, rotate_deg=0, shift=0, scale=(1.0, 1.0)), torch.Generator())
    assert torch.equal(flip_only, x.flip(-1))


def test_jpeg_pack_decodes_to_the_same_pixels(tiny_fer, tmp_path, contract):
    """The GPU machine's carry (≤ 64 MiB): the files' own bytes, shared header once, same pixels and labels."""
    packed = tmp_path / "fer-jpeg.npz"
    counts = D.pack_jpeg(tiny_fer, packed, contract)
    assert counts == {"train": 280, "val": 280}
    files = sum(f.stat().st_size for f in tiny_fer.rglob("*.jpg"))
    z = np.load(packed)
    assert len(z["jpeg_header"]) > 100, "FER2013's JPEGs share their header"
    assert packed.stat().st_size < files
    for split in ("train", "val"):
        a, b = D.load_split(tiny_fer, split, contract, use_cache=False), D.load_split(packed, split, contract)
        assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)


def test_the_contract_reads_test_time_flip(tmp_path, contract):
    """The shipped contract's test-time flip is what Python reads (the Rust side reads the same file)."""
    shipped = json.loads((REPO / "models" / "preprocess.json").read_text())
    assert contract.test_time_flip == shipped.get("test_time_flip", False)
    off = dict(shipped, test_time_flip=False)
    (tmp_path / "c.json").write_text(json.dumps(off))
    assert load_contract(tmp_path / "c.json").test_time_flip is False


def test_gaussian_blur_keeps_sharp_images_and_softens_the_others():
    x = torch.randn(3, 1, 48, 48)
    y = D.gaussian_blur(x, torch.tensor([0.0, 0.6, 1.5]))
    assert torch.equal(y[0], x[0])  # σ 0: the identity
    assert y[1].std() < x[1].std() and y[2].std() < y[1].std()  # more σ, less pixel noise
    flat = torch.full((1, 1, 48, 48), 0.3)
    assert torch.allclose(D.gaussian_blur(flat, torch.tensor([1.5])), flat)  # a normalised kernel, replicated borders


def test_a_framing_cuts_the_face_where_the_pipeline_cut_it():
    """`framings` rows (centre offset and side in face sides, turn in radians) are the crop square in the face's
    coordinates: the identity leaves a face as it is, half the side at (+¼, +¼) enlarges the lower-right quarter."""
    x = torch.zeros(2, 1, 48, 48)
    x[:, :, 24:, 24:] = 1.0  # the lower-right quarter is bright
    x[:, :, 30:36, 30:36] = 2.0  # with a mark in its middle
    cfg = D.AugConfig(flip=0.0, rotate_deg=0, shift=0, scale=(1.0, 1.0), framing=1.0)
    framings = torch.tensor([[[0.0, 0.0, 1.0, 0.0]], [[0.25, 0.25, 0.5, 0.0]]])
    y = D.augment(x, cfg, torch.Generator().manual_seed(0), framings)
    assert torch.allclose(y[0], x[0], atol=1e-5)
    assert y[1, 0, 1:-1, 1:-1].min() > 0.99  # all of the bright quarter
    assert torch.allclose(y[1, 0, 13:23, 13:23], torch.full((10, 10), 2.0), atol=1e-4)  # the mark, twice as large
    assert torch.allclose(y[1, 0, 25:47, 25:47], torch.ones(22, 22), atol=1e-4)
    # a quarter turn (clockwise on screen, as crop_grey's angle): output offset (x, y) reads the face at (-y, x), so
    # the bright lower-right quarter shows in the output's upper right
    turned = D.augment(x, cfg, torch.Generator().manual_seed(0), torch.tensor([[[0.0, 0.0, 1.0, math.pi / 2]]] * 2))
    assert turned[0, 0, 2:22, 26:46].min() > 0.9999  # (the mark is there too)
    assert turned[0, 0, 26:46, 26:46].abs().max() < 1e-4


def test_faces_without_a_framing_and_runs_without_a_table_augment_as_before():
    x = torch.randn(16, 1, 48, 48)
    full = D.AugConfig(flip=0.5, rotate_deg=10, shift=0.1, noise=0.05, erase=0.5)
    framed = D.AugConfig(flip=0.5, rotate_deg=10, shift=0.1, noise=0.05, erase=0.5, framing=0.5)
    same = lambda cfg, f=None: D.augment(x, cfg, torch.Generator().manual_seed(5), f)  # noqa: E731
    assert torch.equal(same(full), same(framed))  # no table: the draws of a run without one (a resumed campaign)
    nowhere = torch.full((16, 2, 4), float("nan"))
    cut = D.augment(x, D.AugConfig(flip=0.0, rotate_deg=0, shift=0, scale=(1.0, 1.0), framing=1.0),
                    torch.Generator().manual_seed(5), nowhere)
    assert torch.allclose(cut, x, atol=1e-5)  # no face found in any frame: the face as it is


def test_framings_are_matched_to_faces_by_name_and_other_tables_refused(tmp_path, contract):
    root = tmp_path / "train"
    for cls, n in (("angry", 2), ("happy", 1)):
        (root / cls).mkdir(parents=True)
        for i in range(n):
            _png(root / cls / f"{cls}{i}.png", 10 * i)
    split = D.read_class_folders(root, contract)
    table = tmp_path / "framings.csv"
    rows = [("happy", "happy0.png", 0, "1", 0.1, 0.0, 0.9, 0.05), ("happy", "happy0.png", 1, "0", "", "", "", ""),
            ("angry", "angry1.png", 0, "1", 0.0, 0.2, 1.0, 0.0), ("angry", "angry1.png", 1, "1", 0.0, 0.0, 1.1, 0.0),
            ("angry", "angry0.png", 0, "1", -0.1, 0.0, 0.8, 0.0), ("angry", "angry0.png", 1, "1", 0.0, 0.0, 1.0, 0.1)]

    def write(rs):
        with open(table, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["class", "file", "view", "found", "centre_x", "centre_y", "side", "angle"])
            w.writerows(rs)

    write(rows)
    f = D.read_framings(table, root, split, contract)
    assert f.shape == (3, 2, 4)
    assert np.allclose(f[0, 0], [-0.1, 0.0, 0.8, 0.0]) and np.allclose(f[1, 1], [0.0, 0.0, 1.1, 0.0])
    assert np.allclose(f[2, 0], [0.1, 0.0, 0.9, 0.05]) and np.isnan(f[2, 1]).all()
    assert split.subset(0).framings is None
    split.framings = f
    assert split.subset(2, seed=1).framings.shape == (2, 2, 4)
    write(rows[:-1])  # a view missing
    with pytest.raises(ValueError, match="no row for every view"):
        D.read_framings(table, root, split, contract)
    write(rows + [("angry", "angry9.png", 0, "1", 0, 0, 1, 0)])  # a face this data does not have
    with pytest.raises(ValueError, match="not a face of"):
        D.read_framings(table, root, split, contract)
