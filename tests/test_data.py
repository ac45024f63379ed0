"""The image loader: extracts gzipped IDX files into its own folder, picks the present split, fails clearly."""
import gzip
import os
import struct

import pytest
import torch

from course_lib import data as D


def _idx_images(n: int, seed: int = 0) -> tuple[bytes, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    pixels = torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.uint8)
    return struct.pack(">iiii", 2051, n, 28, 28) + pixels.numpy().tobytes(), pixels


def _idx_labels(n: int) -> tuple[bytes, torch.Tensor]:
    labels = torch.arange(n, dtype=torch.uint8) % 10
    return struct.pack(">ii", 2049, n) + labels.numpy().tobytes(), labels


def _write_split(root, folder: str, split: str, n: int):
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    p = {"train": "train", "test": "t10k"}[split]
    img_bytes, pixels = _idx_images(n)
    lab_bytes, labels = _idx_labels(n)
    (raw / f"{p}-images-idx3-ubyte.gz").write_bytes(gzip.compress(img_bytes))
    (raw / f"{p}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(lab_bytes))
    return pixels, labels


@pytest.fixture(autouse=True)
def _fresh_memory():
    D._MEMORY.clear()
    yield
    D._MEMORY.clear()


def test_loader_extracts_gz_into_cache_not_into_root_and_scales_to_unit_interval(tmp_path):
    root, cache = tmp_path / "root", tmp_path / "cache"
    pixels, labels = _write_split(root, "MNIST", "test", 7)
    before = sorted(os.listdir(root / "MNIST" / "raw"))
    d = D.load_images("mnist", "test", root=root, cache=cache, download=False)
    assert sorted(os.listdir(root / "MNIST" / "raw")) == before  # the source folder is untouched
    assert sorted(os.listdir(cache / "MNIST" / "raw")) == ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    assert d.images.shape == (7, 1, 28, 28) and d.images.dtype == torch.float32
    assert d.labels.dtype == torch.int64 and d.labels.tolist() == labels.long().tolist()
    torch.testing.assert_close(d.images[:, 0], pixels.float() / 255.0, rtol=0, atol=1e-7)
    assert 0.0 <= float(d.images.min()) and float(d.images.max()) <= 1.0


def test_auto_split_picks_test_when_only_test_present_and_the_note_says_so(tmp_path):
    root = tmp_path / "root"
    _write_split(root, "MNIST", "test", 5)
    d = D.load_images("mnist", "auto", root=root, cache=tmp_path / "cache", download=False)
    assert d.split == "test" and len(d) == 5
    assert "test split" in d.note and "training split is not available" in d.note


def test_auto_split_picks_train_when_present(tmp_path):
    root = tmp_path / "root"
    _write_split(root, "FashionMNIST", "test", 3)
    _write_split(root, "FashionMNIST", "train", 4)
    d = D.load_images("fashion_mnist", "auto", root=root, cache=tmp_path / "cache", download=False)
    assert d.split == "train" and len(d) == 4 and d.name == "fashion_mnist"


def test_empty_root_fails_with_message_naming_files_folder_and_variable(tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    with pytest.raises(D.DataNotFoundError) as err:
        D.load_images("mnist", "auto", root=root, cache=tmp_path / "cache", download=False)
    msg = str(err.value)
    assert "t10k-images-idx3-ubyte.gz" in msg and str(root / "MNIST" / "raw") in msg and "COURSE_DATA" in msg


def test_missing_requested_split_fails_even_when_other_split_present(tmp_path):
    root = tmp_path / "root"
    _write_split(root, "MNIST", "test", 3)
    with pytest.raises(D.DataNotFoundError, match="train-images-idx3-ubyte.gz"):
        D.load_images("mnist", "train", root=root, cache=tmp_path / "cache", download=False)


def test_nonexistent_root_fails_naming_the_variable(tmp_path):
    with pytest.raises(D.DataNotFoundError, match="does not exist.*COURSE_DATA"):
        D.load_images("mnist", root=tmp_path / "nowhere", cache=tmp_path / "cache", download=False)
    assert not (tmp_path / "cache").exists()  # nothing written
    # a missing root is bad input: callers catching ValueError (the course's convention) see it too
    assert issubclass(D.DataNotFoundError, ValueError) and issubclass(D.DataNotFoundError, FileNotFoundError)


def test_root_comes_from_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "envroot"))
    assert D.data_root() == tmp_path / "envroot"
    monkeypatch.delenv("COURSE_DATA")
    assert D.data_root() == D.PROJECT_DATA


def test_corrupt_gzip_raises_value_error_and_leaves_no_partial_file(tmp_path):
    root, cache = tmp_path / "root", tmp_path / "cache"
    _write_split(root, "MNIST", "test", 3)
    gz = root / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz"
    good = gz.read_bytes()
    gz.write_bytes(good[: len(good) // 2])  # truncated
    with pytest.raises(ValueError, match="not a valid gzip file"):
        D.load_images("mnist", "test", root=root, cache=cache, download=False)
    assert not (cache / "MNIST" / "raw" / "t10k-images-idx3-ubyte").exists()
    assert not [f for f in os.listdir(cache / "MNIST" / "raw") if f.endswith(".part")]
    gz.write_bytes(b"this is not gzip at all")
    with pytest.raises(ValueError, match="not a valid gzip file"):
        D.load_images("mnist", "test", root=root, cache=cache, download=False)


@pytest.mark.parametrize("kw, allowed", [(dict(name="cifar10"), "fashion_mnist"), (dict(split="validation"), "auto")])
def test_unknown_name_or_split_raises_value_error_listing_allowed(tmp_path, kw, allowed):
    with pytest.raises(ValueError, match=allowed):
        D.load_images(**kw, root=tmp_path, cache=tmp_path / "cache", download=False)


def test_offline_variable_makes_is_online_false_without_network(monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    assert D.is_online() is False


def test_download_skipped_offline_gives_documented_error_quickly(tmp_path, monkeypatch):
    import time

    monkeypatch.setenv("COURSE_OFFLINE", "1")
    root = tmp_path / "empty"
    root.mkdir()
    t0 = time.perf_counter()
    with pytest.raises(D.DataNotFoundError, match="offline"):
        D.load_images("fashion_mnist", "train", root=root, cache=tmp_path / "cache", download=True)
    assert time.perf_counter() - t0 < 5.0


def test_train_test_split_is_a_seeded_partition(tmp_path):
    root = tmp_path / "root"
    _write_split(root, "MNIST", "test", 20)
    d = D.load_images("mnist", "test", root=root, cache=tmp_path / "cache", download=False)
    a_tr, a_te = D.train_test_split(d, 5, seed=1)
    b_tr, b_te = D.train_test_split(d, 5, seed=1)
    assert a_tr.shape[0] == 15 and a_te.shape[0] == 5
    assert torch.equal(a_te, b_te)
    with pytest.raises(ValueError):
        D.train_test_split(d, 20)


def test_official_splits_are_the_two_files_when_both_are_present(tmp_path):
    root = tmp_path / "root"
    _, test_labels = _write_split(root, "MNIST", "test", 6)
    _write_split(root, "MNIST", "train", 9)
    trn, test = D.official_splits("mnist", n_fallback=2, root=root, cache=tmp_path / "cache", download=False)
    assert (trn.split, len(trn), test.split, len(test)) == ("train", 9, "test", 6)
    assert test.labels.tolist() == test_labels.long().tolist()


def test_official_splits_cut_an_old_copy_into_disjoint_parts_and_say_so(tmp_path):
    root = tmp_path / "root"
    _write_split(root, "MNIST", "test", 20)
    whole = D.load_images("mnist", "test", root=root, cache=tmp_path / "cache", download=False)
    trn, held = D.official_splits("mnist", n_fallback=5, seed=3, root=root, cache=tmp_path / "cache", download=False)
    assert len(trn) == 15 and len(held) == 5
    rows = lambda d: {bytes(x.numpy().tobytes()) for x in (d.images * 255).round().to(torch.uint8)}  # noqa: E731
    assert rows(trn).isdisjoint(rows(held)) and rows(trn) | rows(held) == rows(whole)
    assert "only the 20-image test split" in trn.note and "15 training and 5 held-out" in trn.note


def test_no_test_split_image_reaches_the_judge_s_training_or_the_data_that_sets_its_reject_cut(tmp_path, monkeypatch):
    """The course judge trains on the training split and sets its cut on a validation part of it; the
    official test split only measures it. Traced by the images each step receives (the two splits differ)."""
    from course_lib import evaluation as ev

    _write_split(tmp_path / "root", "MNIST", "train", 300)
    _write_split(tmp_path / "root", "MNIST", "test", 120)
    raw = tmp_path / "root" / "MNIST" / "raw"  # the test split gets pixels of its own (the helper draws the same ones)
    img_bytes, test_pixels = _idx_images(120, seed=1)
    (raw / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(img_bytes))
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "root"))
    monkeypatch.setenv("COURSE_STORE", "off")
    monkeypatch.setattr(D, "PROJECT_DATA", tmp_path / "cache")
    test_rows = {bytes(r) for r in (test_pixels.flatten(1).numpy())}

    def test_images_in(images):
        rows = (images.flatten(1) * 255).round().to(torch.uint8).numpy()
        return sum(bytes(r) in test_rows for r in rows)

    seen, inputs_of = {}, {}
    real_predict, real_train, real_fit = ev.predict, ev.train_judge, ev.fit_density

    def predict(model, images, batch=1000):
        probs, feats = real_predict(model, images, batch)
        inputs_of[id(feats)] = images
        return probs, feats

    def train_judge(model, images, labels, **kw):
        seen["trained on"] = images
        return real_train(model, images, labels, **kw)

    def fit_density(train_feats, train_labels, val_feats, *a, **kw):
        seen["density from"], seen["cut from"] = inputs_of[id(train_feats)], inputs_of[id(val_feats)]
        return real_fit(train_feats, train_labels, val_feats, *a, **kw)

    monkeypatch.setattr(ev, "predict", predict)
    monkeypatch.setattr(ev, "train_judge", train_judge)
    monkeypatch.setattr(ev, "fit_density", fit_density)
    judge = ev.course_judge("mnist", steps=2, n_val=50, batch_size=16, n_check=30, progress=False)

    assert set(seen) == {"trained on", "density from", "cut from"}
    assert len(seen["trained on"]) == 250 and len(seen["cut from"]) == 50
    for step, images in seen.items():
        assert test_images_in(images) == 0, f"{step}: test-split images reached it"
    assert test_images_in(D.load_images("mnist", "test").images) == 120  # the trace does see test images where they are
    assert len(set(judge.held.tolist()) | set(judge.train.tolist())) == 300  # held + train: the training split, once each


def test_stacked_digits_stack_independent_draws_and_name_their_mode():
    from course_lib.data import ImageData, mode_of, stacked

    images = torch.arange(10, dtype=torch.float32).reshape(10, 1, 1, 1).expand(10, 1, 28, 28).clone() / 10
    data = stacked(ImageData(images=images, labels=torch.arange(10), name="mnist", split="train", note=""))
    assert data.n_modes == 1000
    x, mode = data.sample_with_modes(500, torch.Generator().manual_seed(0))
    assert x.shape == (500, 3, 28, 28)
    digits = (x[:, :, 0, 0] * 10).round().long()          # each channel's pixel value says which digit it is
    assert torch.equal(mode, mode_of(digits)) and torch.equal(mode, digits[:, 0] * 100 + digits[:, 1] * 10 + digits[:, 2])
    assert len(set(mode.tolist())) > 350                    # independent draws: 500 samples hit many of the 1,000 modes
    again, _ = data.sample_with_modes(500, torch.Generator().manual_seed(0))
    assert torch.equal(x, again)                            # seeded
    with pytest.raises(ValueError, match="channels"):
        stacked(ImageData(images=images, labels=torch.arange(10), name="mnist", split="train", note=""), channels=0)
    with pytest.raises(ValueError, match="digits 0..9"):
        mode_of(torch.tensor([[1, 10]]))
