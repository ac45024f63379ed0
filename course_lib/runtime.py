"""Where and how a notebook runs: profile (test, real or full), device, seeding.

The profile comes from one environment variable, ``COURSE_PROFILE``:

* ``test``: tiny step counts, CPU only, so that CI executes every notebook in under a minute
  and the numbers a cell prints are the same on every machine;
* ``real`` (the default): the step counts whose results show what the text claims, on the
  GPU when there is one (under 10 minutes per notebook on 2 CPU cores);
* ``full``: the papers' budgets (e.g. 3x400 MLPs, 20,000 generator steps, 5 seeds on the 2-D
  targets), meant for a GPU. A notebook gives its ``full`` settings as changes to its ``real``
  ones; everything that holds for ``real`` (device choice, the asserts) holds for ``full``.
"""
from __future__ import annotations

import contextlib
import os
import random
from types import SimpleNamespace

import numpy as np
import torch

PROFILE_VAR = "COURSE_PROFILE"
DEVICE_VAR = "COURSE_DEVICE"
PROFILES = ("test", "real", "full")


def profile() -> str:
    """The active profile, read from ``$COURSE_PROFILE`` (``real`` when unset)."""
    name = os.environ.get(PROFILE_VAR, "real").strip().lower() or "real"
    if name not in PROFILES:
        raise ValueError(
            f"{PROFILE_VAR}={name!r} is not a profile; use one of {PROFILES} "
            f"(e.g. `export {PROFILE_VAR}=test` for the quick CI run)."
        )
    return name


def is_test() -> bool:
    """True in the quick ``test`` profile."""
    return profile() == "test"


def is_full() -> bool:
    """True in the ``full`` profile (the papers' budgets)."""
    return profile() == "full"


class Settings(SimpleNamespace):
    """The step counts and sizes one notebook uses, for the active profile (read-only by habit)."""

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"Settings[{profile()}]({items})"


def settings(test: dict, real: dict, full: dict | None = None) -> Settings:
    """Pick the notebook's settings for the active profile.

    ``test`` and ``real`` name the same keys; ``full`` (optional) changes some of ``real``'s (the
    ``full`` profile is ``real`` with those changes, or ``real`` itself when none are given).
    """
    if set(test) != set(real):
        missing = sorted(set(test) ^ set(real))
        raise ValueError(f"test and real settings must have the same keys; differ in {missing}")
    unknown = sorted(set(full or {}) - set(real))
    if unknown:
        raise ValueError(f"full settings change real ones; {unknown} are not among the real settings {sorted(real)}")
    name = profile()
    if name == "test":
        return Settings(**test)
    return Settings(**(dict(real, **(full or {})) if name == "full" else real))


def available_devices() -> list:
    """The devices torch can compute on here, as names for ``$COURSE_DEVICE``: "cpu", then "cuda:0", ... and "mps" where present."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        names.append("mps")
    return names


def _checked_device(value: str, source: str) -> torch.device:
    """``value`` as a torch.device if this machine has it, else a ValueError naming ``source``, the value and what is available."""
    hint = f"set {source} to one of {available_devices()}" + (" or unset it" if source == DEVICE_VAR else "")
    try:
        device = torch.device(value.strip())
    except (RuntimeError, ValueError, TypeError):
        raise ValueError(f"{source}={value!r} is not a device name; {hint}") from None
    if device.type == "cpu":
        return device
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count and (device.index is None or device.index < count):
            return device
        have = f"only {count} CUDA device(s)" if count else "no CUDA device (torch.cuda.is_available() is False)"
        raise ValueError(f"{source}={value!r} names a CUDA device, but this machine has {have}; {hint}")
    if device.type == "mps":
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return device
        raise ValueError(f"{source}={value!r} names Apple's MPS device, which this machine does not have; {hint}")
    raise ValueError(f"{source}={value!r}: the course computes on the CPU, CUDA or MPS; {hint}")


def get_device(name: str | None = None) -> torch.device:
    """The device to compute on: ``name`` if given, CPU in the test profile, else ``$COURSE_DEVICE`` if set, else CUDA > MPS > CPU.

    The test profile ignores ``$COURSE_DEVICE`` and computes on the CPU: its numbers (which the
    notebooks print and assert on) must be the same on every machine. A device that this machine
    does not have (e.g. ``COURSE_DEVICE=cuda`` without CUDA) or a name torch cannot read (``gpu0``)
    raises a ValueError naming ``COURSE_DEVICE`` (or ``name``), the value and the devices available.
    """
    if name:
        return _checked_device(str(name), "name")
    if is_test():
        return torch.device("cpu")
    env = os.environ.get(DEVICE_VAR, "").strip()
    if env:
        return _checked_device(env, DEVICE_VAR)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def free_cores() -> int:
    """CPU cores not busy with other work: the core count less the 1-minute load beyond our own thread (at least 1)."""
    cores = os.cpu_count() or 1
    try:
        others = max(0.0, os.getloadavg()[0] - 1.0)
    except (AttributeError, OSError):  # no load average on this system (Windows)
        return cores
    return max(1, min(cores, int(cores - others + 0.5)))


@contextlib.contextmanager
def num_threads(n: int):
    """Within the block torch uses ``n`` CPU threads (e.g. 2 for an ensemble), or fewer when other work holds the cores.

    OpenMP threads that must wait for a busy core slow a run down many times over (measured on 2
    cores with one other busy process: 186 s on two threads against 9 s on one), so the block asks
    for at most ``free_cores()``. The thread count can change the last bits of a result (the order of a
    reduction inside a convolution; chapter 14's unconditional DCGAN scored 63.0% alone and 64.3% side
    by side), so real-profile claims are asserted with a margin, never to the digit.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"the number of threads must be a positive integer, got {n!r}")
    before = torch.get_num_threads()
    torch.set_num_threads(min(n, free_cores()))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed torch (all devices), numpy and random; return a CPU ``torch.Generator`` seeded the same."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA and MPS
    return torch.Generator().manual_seed(seed)


def setup_notebook(seed: int = 0, *, test: dict, real: dict, full: dict | None = None, threads: int | None = None):
    """The standard first cell: seed, choose device and settings, print them; returns ``(settings, device)``."""
    seed_everything(seed)
    device = get_device()
    if threads is None and device.type == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        # measured on 2 cores: the course's small networks train 3x faster on one thread than on two
        threads = 1
    if threads:
        torch.set_num_threads(threads)
    cfg = settings(test=test, real=real, full=full)
    print(f"profile={profile()}  device={device}  torch={torch.__version__}  seed={seed}")
    print(cfg)
    return cfg, device
