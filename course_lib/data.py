"""Image data: MNIST (LeCun et al. 1998) and Fashion-MNIST (Xiao et al. 2017, arXiv:1708.07747)
as in-memory tensors.

Where the files come from, in order:

1. the project's ``data/`` folder (``data/MNIST/raw/t10k-images-idx3-ubyte`` ...), already extracted;
2. the data root named by ``$COURSE_DATA`` (default: the project's ``data/``), laid out as
   torchvision does (``ROOT/MNIST/raw/*.gz``): gzipped IDX files found there are extracted into the
   project's ``data/`` (never into the root), through a temporary name and a rename, so that an
   interrupted or corrupt extraction leaves nothing half-written;
3. torchvision's download, when the machine is online (checked with a short time-out first, so an
   offline machine fails fast instead of hanging); ``COURSE_OFFLINE=1`` skips it.

Where only the 10,000-digit *test* split exists (an old offline copy), ``split="auto"`` uses it and
``ImageData.note`` says so, for the notebook to print; ``official_splits`` then cuts it in two.
"""
from __future__ import annotations

import gzip
import os
import shutil
import socket
import tempfile
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import torch

ROOT_VAR = "COURSE_DATA"
OFFLINE_VAR = "COURSE_OFFLINE"
PROJECT_DATA = Path(__file__).resolve().parents[1] / "data"

# name -> (torchvision folder and class name, human name)
DATASETS = {"mnist": ("MNIST", "MNIST"), "fashion_mnist": ("FashionMNIST", "Fashion-MNIST")}
SPLITS = ("auto", "train", "test")
_PREFIX = {"train": "train", "test": "t10k"}
_SIZES = {"train": "60,000", "test": "10,000"}


class DataNotFoundError(FileNotFoundError, ValueError):
    """No copy of the requested split was found and none could be downloaded; the message says what to put where.

    Also a ``ValueError``, like every other bad-input error of the course (a wrong root is bad input)."""


@dataclass
class ImageData:
    """A loaded image set, kept in memory."""

    images: torch.Tensor  # (N, 1, 28, 28) float32 in [0, 1]
    labels: torch.Tensor  # (N,) int64 class indices 0..9
    name: str             # "mnist" or "fashion_mnist"
    split: str            # "train" or "test"
    note: str             # one sentence for the notebook: which split, from where, and why

    def __len__(self) -> int:
        return len(self.images)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n images drawn uniformly with replacement, (n, 1, 28, 28), on the CPU."""
        idx = torch.randint(len(self.images), (n,), generator=generator)
        return self.images[idx]


@dataclass
class StackedDigits:
    """StackedMNIST (Metz et al. 2017, arXiv:1611.02163; VEEGAN; PacGAN): ``channels`` digits drawn independently and
    stacked as the colour channels of one 28 x 28 image, so 10^channels modes (1,000 for three).

    Built from an ``ImageData`` split (``stacked(data)``); ``sample`` is what the trainer draws real batches from.
    """

    images: torch.Tensor  # (N, 1, 28, 28): the digits the channels are drawn from
    labels: torch.Tensor  # (N,)
    channels: int = 3

    @property
    def n_modes(self) -> int:
        return 10 ** self.channels

    def sample_with_modes(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(x, mode): x (n, channels, 28, 28), each channel a digit drawn uniformly with replacement; mode (n,) the
        channels' labels read as one number, mode = sum_c label_c 10^(channels - 1 - c) (the first channel leads)."""
        idx = torch.randint(len(self.images), (n, self.channels), generator=generator)
        x = self.images[idx].squeeze(2)                                   # (n, channels, 28, 28)
        return x, mode_of(self.labels[idx])

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.sample_with_modes(n, generator)[0]


def mode_of(labels: torch.Tensor) -> torch.Tensor:
    """(N, C) digit labels per channel -> (N,) mode index sum_c label_c 10^(C - 1 - c)."""
    labels = torch.as_tensor(labels)
    if labels.ndim != 2 or labels.is_floating_point() or bool(((labels < 0) | (labels > 9)).any()):
        raise ValueError(f"labels must be an (N, C) integer tensor of digits 0..9, got dtype {labels.dtype}, "
                         f"shape {tuple(labels.shape)}")
    powers = 10 ** torch.arange(labels.shape[1] - 1, -1, -1, device=labels.device)
    return (labels.long() * powers).sum(1)


def stacked(data: "ImageData", channels: int = 3) -> StackedDigits:
    """StackedMNIST from one split of MNIST (``load_images("mnist", split="train")``)."""
    if not isinstance(channels, int) or isinstance(channels, bool) or not 1 <= channels <= 6:
        raise ValueError(f"channels must be an integer from 1 to 6 (3 for StackedMNIST's 1,000 modes), got {channels!r}")
    return StackedDigits(data.images, data.labels, channels)


def _files(split: str) -> list[str]:
    p = _PREFIX[split]
    return [f"{p}-images-idx3-ubyte", f"{p}-labels-idx1-ubyte"]


def data_root() -> Path:
    """The data root: ``$COURSE_DATA`` when set, else the project's ``data/``."""
    value = os.environ.get(ROOT_VAR, "").strip()
    return Path(value).expanduser() if value else PROJECT_DATA


def _extract(src: Path, dst: Path) -> None:
    """Gunzip ``src`` to ``dst`` through a temporary file in dst's folder, then rename; corrupt input raises ValueError."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=dst.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, gzip.open(src, "rb") as inp:
            shutil.copyfileobj(inp, out, 1 << 20)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the data are public
        os.replace(tmp, dst)
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise ValueError(
            f"{src} is not a valid gzip file ({e}); replace it with the official file "
            f"(or delete it so that another copy or the download is used)."
        ) from e
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _local(folder: str, split: str, root: Path, cache: Path) -> bool:
    """Make the split's extracted files present under ``cache/folder/raw``; True when they are."""
    raw_cache, raw_root = cache / folder / "raw", root / folder / "raw"
    for f in _files(split):
        dst = raw_cache / f
        if dst.is_file():
            continue
        if (raw_root / f).is_file() and raw_root.resolve() != raw_cache.resolve():
            src, gz = raw_root / f, False
        elif (raw_root / (f + ".gz")).is_file():
            src, gz = raw_root / (f + ".gz"), True
        elif (raw_cache / (f + ".gz")).is_file():
            src, gz = raw_cache / (f + ".gz"), True
        else:
            return False
        if gz:
            _extract(src, dst)
        else:  # an extracted copy in the root: copy it through a temporary name too
            raw_cache.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=raw_cache, prefix=f + ".", suffix=".part")
            os.close(fd)
            try:
                shutil.copyfile(src, tmp)
                os.chmod(tmp, 0o644)
                os.replace(tmp, dst)
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
    return True


_ONLINE: dict = {}  # (host, port) -> bool, probed once per process


def is_online(host: str = "ossci-datasets.s3.amazonaws.com", port: int = 443, timeout: float = 1.5) -> bool:
    """True when a TCP connection to ``host`` opens within ``timeout`` seconds (DNS included); False offline."""
    if os.environ.get(OFFLINE_VAR, "").strip() not in ("", "0"):
        return False
    if (host, port) in _ONLINE:
        return _ONLINE[(host, port)]
    result = []

    def probe():
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            pass

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 0.5)  # getaddrinfo has no time-out of its own
    _ONLINE[(host, port)] = bool(result)
    return bool(result)


def _download(name: str, split: str, cache: Path) -> str:
    """torchvision's download of one split into a temporary folder, then moved into ``cache``: "done", "offline" or "failed"."""
    from torchvision import datasets
    from torchvision.datasets.utils import download_and_extract_archive

    folder = DATASETS[name][0]
    cls = getattr(datasets, folder)
    host = urlparse(cls.mirrors[0]).hostname
    if not is_online(host):
        return "offline"
    md5 = dict(cls.resources)
    raw_cache = cache / folder / "raw"
    raw_cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=raw_cache, prefix=".download-") as tmp:
        for f in _files(split):
            for mirror in cls.mirrors:
                try:
                    download_and_extract_archive(mirror + f + ".gz", download_root=tmp, filename=f + ".gz", md5=md5.get(f + ".gz"))
                    break
                except Exception:  # noqa: BLE001 - any failure: try the next mirror, then give up
                    continue
            else:
                return "failed"
        for f in _files(split):
            os.replace(os.path.join(tmp, f), raw_cache / f)
    return "done"


def _missing_message(name: str, split: str, root: Path, cache: Path, download: str) -> str:
    folder, human = DATASETS[name]
    gz = ", ".join(f + ".gz" for f in _files(split))
    how = {"failed": "the download through torchvision failed",
           "offline": f"torchvision's download was skipped: this machine is offline (or ${OFFLINE_VAR} is set)",
           "off": "download=False"}[download]
    return (
        f"{human} {split} split not found: put {gz} (the official gzipped IDX files) in "
        f"{root / folder / 'raw'}/, or set ${ROOT_VAR} to a folder that holds {folder}/raw/{gz.split(', ')[0]} "
        f"(e.g. `export {ROOT_VAR}=/path/to/shared/data`); {how}. Extracted files go to {cache / folder / 'raw'}/."
    )


_MEMORY: dict = {}


def load_images(name: str = "mnist", split: str = "auto", *, root: str | os.PathLike | None = None,
                cache: str | os.PathLike | None = None, download: bool = True) -> ImageData:
    """Load MNIST or Fashion-MNIST as in-memory tensors: images (N, 1, 28, 28) = pixels / 255, labels (N,).

    ``name`` in {"mnist", "fashion_mnist"}; ``split`` in {"auto", "train", "test"}, where "auto" is
    the training split when it is present (or can be downloaded), else the test split. ``root``
    defaults to ``$COURSE_DATA`` (else the project's ``data/``); ``cache`` (where files are
    extracted) to the project's ``data/``; ``download=False`` never touches the network.
    """
    from torchvision.datasets.mnist import read_image_file, read_label_file

    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {sorted(DATASETS)}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {SPLITS} ('auto' = train when present, else test)")
    root = Path(root).expanduser() if root is not None else data_root()
    cache = Path(cache).expanduser() if cache is not None else PROJECT_DATA
    if not root.is_dir():
        raise DataNotFoundError(
            f"data root {root} does not exist (it comes from ${ROOT_VAR} or the `root` argument): "
            f"set ${ROOT_VAR} to an existing folder holding <Name>/raw/*.gz, e.g. "
            f"`export {ROOT_VAR}=/path/to/shared/data`, or unset it to use {PROJECT_DATA}."
        )
    folder, human = DATASETS[name]
    key = (name, split, str(root.resolve()), str(cache.resolve()))
    if key in _MEMORY:
        return _MEMORY[key]

    present = {s: _local(folder, s, root, cache) for s in ("train", "test")}
    want = "train" if split == "auto" else split
    outcome = "off"
    if not present[want] and download:
        outcome = _download(name, want, cache)
        present[want] = outcome == "done"
    if present[want]:
        chosen = want
    elif split == "auto" and present["test"]:
        chosen = "test"
    else:
        raise DataNotFoundError(_missing_message(name, want if split != "auto" else "test", root, cache, outcome))

    raw = cache / folder / "raw"
    p = _PREFIX[chosen]
    try:
        images = read_image_file(str(raw / f"{p}-images-idx3-ubyte"))
        labels = read_label_file(str(raw / f"{p}-labels-idx1-ubyte"))
    except (AssertionError, RuntimeError, ValueError) as e:
        raise ValueError(f"the extracted {human} {chosen} files in {raw} are not valid IDX files ({e}); "
                         f"delete them so that they are extracted again") from e
    if len(images) != len(labels):
        raise ValueError(f"{human} {chosen}: {len(images)} images but {len(labels)} labels in {raw}; delete the files and extract again")
    images = images.to(torch.float32).div_(255.0).unsqueeze(1).contiguous()  # (N, 1, 28, 28)
    labels = labels.to(torch.int64)
    if chosen == "test" and split == "auto":
        note = (f"{human}: using the {len(images):,}-image test split, because the {_SIZES['train']}-image "
                f"training split is not available here (offline copy); with internet, torchvision downloads it.")
    else:
        note = f"{human}: the {len(images):,}-image {chosen} split."
    data = ImageData(images, labels, name, chosen, note)
    _MEMORY[key] = data
    return data


def official_splits(name: str = "mnist", n_fallback: int = 2000, seed: int = 0, **load) -> tuple[ImageData, ImageData]:
    """(training, test): the official splits; where only the test split exists (an old offline copy), that split
    cut at random (``seed``) into a training part and ``n_fallback`` held-out images, the training part's note saying so.

    ``load``: ``load_images``'s keyword arguments (``root``, ``cache``, ``download``). Nothing of the returned test
    part is ever in the training part: choices made by looking at results belong on a validation part of the latter.
    """
    test = load_images(name, "test", **load)
    try:
        return load_images(name, "train", **load), test
    except DataNotFoundError:
        pass
    trn, held = split_indices(len(test), n_fallback, seed)
    human = DATASETS[name][1]
    note = (f"{human}: only the {len(test):,}-image test split is here (an old offline copy), so it is cut into "
            f"{len(trn):,} training and {len(held):,} held-out images; with the {_SIZES['train']}-image training split "
            f"the official test split is the held-out set.")
    part = lambda idx: ImageData(test.images[idx], test.labels[idx], name, "test", note)  # noqa: E731
    return part(trn), part(held)


def split_indices(n: int, n_test: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded random partition of range(n) into (train, held-out) index tensors with ``n_test`` held out."""
    if not 0 < n_test < n:
        raise ValueError(f"n_test must be in (0, {n}), got {n_test}")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return perm[n_test:], perm[:n_test]


def train_test_split(data: ImageData, n_test: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded random partition of the images into (train, held-out) tensors with ``n_test`` held out
    (the labels of the same parts: ``data.labels[split_indices(len(data), n_test, seed)[k]]``)."""
    train, test = split_indices(len(data), n_test, seed)
    return data.images[train], data.images[test]
