"""Benchmark (not a test): the 2-D trainer's speed and each notebook's wall time per profile.

    python scripts/benchmark.py                       # trainer speed + every notebook, test profile
    python scripts/benchmark.py --profiles test real  # both profiles (the real one takes long)
    python scripts/benchmark.py --write               # also rewrite BENCHMARKS.md with the figures
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib import losses, models, toys  # noqa: E402
from course_lib.build import execute  # noqa: E402
from course_lib.train import TrainConfig, train  # noqa: E402


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{platform.node()}: {os.cpu_count()} cores ({cpu}), {gpu}, Python {platform.python_version()}, torch {torch.__version__}"


def trainer_speed(device: str = "cpu", steps: int = 1000) -> float:
    """Generator steps per second of the vanilla GAN on 8-Gaussians (MLP 2 x 128, batch 256, n_critic 1)."""
    torch.manual_seed(0)
    t = toys.ring8()
    G = models.Generator(2, 2, 128, 2).to(device)
    D = models.Discriminator(2, 128, 2).to(device)
    train(G, D, t.sample, losses.GANObjective(), TrainConfig(steps=50, progress=False))  # warm-up
    start = time.perf_counter()
    train(G, D, t.sample, losses.GANObjective(), TrainConfig(steps=steps, progress=False))
    if device == "cuda":
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", nargs="+", default=["test"], choices=["test", "real"])
    parser.add_argument("--notebooks", nargs="*", type=Path, default=sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    parser.add_argument("--write", action="store_true", help="rewrite BENCHMARKS.md")
    args = parser.parse_args()

    lines = [f"machine: {machine()}",
             f"torch threads for the trainer figure: {torch.get_num_threads()}; notebooks: one thread each on CPU (setup_notebook's default)"]
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for dev in devices:
        lines.append(f"2-D trainer (vanilla GAN, ring8, MLP 2x128, batch 256) on {dev}: {trainer_speed(dev):.0f} generator steps/s")
        print(lines[-1], flush=True)
    table = ["| notebook | " + " | ".join(f"{p} profile (s)" for p in args.profiles) + " |",
             "|---|" + "---|" * len(args.profiles)]
    for nb in args.notebooks:
        cells = []
        for prof in args.profiles:
            os.environ["COURSE_PROFILE"] = prof
            try:
                _, seconds = execute(nb)
                cells.append(f"{seconds:.0f}")
            except Exception as err:
                cells.append(f"failed ({type(err).__name__})")
            print(f"{nb.name} [{prof}]: {cells[-1]} s", flush=True)
        table.append(f"| {nb.stem} | " + " | ".join(cells) + " |")
    print("\n".join(lines + [""] + table))
    if args.write:
        stamp = time.strftime("%Y-%m-%d")
        text = ["# Benchmarks", "", f"Measured {stamp} with `python scripts/benchmark.py --profiles {' '.join(args.profiles)} --write`.", ""]
        text += [f"- {l}" for l in lines] + ["", "Notebook wall times (kernel start included):", ""] + table + [""]
        (ROOT / "BENCHMARKS.md").write_text("\n".join(text))


if __name__ == "__main__":
    main()
