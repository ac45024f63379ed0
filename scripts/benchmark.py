"""Benchmark (not a test): the 2-D trainer's speed, many runs at once, and each notebook's wall time per profile.

    python scripts/benchmark.py                       # trainer speed + ensembles + every notebook, test profile
    python scripts/benchmark.py --profiles test real  # both profiles (the real one takes long)
    python scripts/benchmark.py --notebooks           # trainer and ensemble figures only
    python scripts/benchmark.py --write               # also rewrite BENCHMARKS.md with the figures

Ensembles: aggregate member-steps/s (generator steps of all members per second) of K = 1, 16, 256
vanilla GANs on 8 Gaussians (MLP 2 x 128, batch 256) trained at once, on the CPU with one thread
and, where there is one, on CUDA; against K sequential runs (the single run's steps/s, which is
the aggregate of running them one after another) and a bare PyTorch loop on the same model.
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

from course_lib import compare, losses, models, toys  # noqa: E402
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


def bare_loop_speed(device: str = "cpu", steps: int = 1000) -> float:
    """Generator steps per second of the same GAN written as a bare PyTorch loop (no trainer, no logging)."""
    torch.manual_seed(0)
    t = toys.ring8()
    G = models.Generator(2, 2, 128, 2).to(device)
    D = models.Discriminator(2, 128, 2).to(device)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(0)
    sp = torch.nn.functional.softplus

    def step():
        x = t.sample(256, gen).to(device)
        with torch.no_grad():
            fake = G(torch.randn(256, 2, generator=gen).to(device))
        d_loss = sp(-D(x)).mean() + sp(D(fake)).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        g_loss = sp(-D(G(torch.randn(256, 2, generator=gen).to(device)))).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()

    for _ in range(50):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - start)


def ensemble_speed(k: int, device: str = "cpu", steps: int | None = None) -> float:
    """Aggregate member-steps/s: K vanilla GANs (ring8, MLP 2 x 128, batch 256) trained at once as one ensemble."""
    steps = steps or max(20, min(1000, 8000 // k))
    cfg = compare.MethodConfig(hidden=128, depth=2, batch_size=256)
    G, D, obj = compare.make_toy_ensemble("gan", list(range(k)), cfg)
    G, D = G.to(device), D.to(device)
    warm = TrainConfig(steps=10, seed=tuple(range(k)), progress=False)
    train(G, D, toys.ring8().sample, obj, warm)
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    train(G, D, toys.ring8().sample, obj, TrainConfig(steps=steps, seed=tuple(range(k)), progress=False))
    if device == "cuda":
        torch.cuda.synchronize()
    return k * steps / (time.perf_counter() - start)


def ensemble_table(devices) -> list:
    """Markdown rows: per device, the single run, the bare loop, and ensembles of 1, 16 and 256 members."""
    rows = ["| device | single run (steps/s) | bare loop (steps/s) | trainer / bare | K | ensemble (member-steps/s) | ensemble / K sequential |",
            "|---|---|---|---|---|---|---|"]
    for dev in devices:
        # three rounds, each measuring everything once, so that a busy moment hits all figures alike; medians reported
        runs = {"single": [], "bare": [], 1: [], 16: [], 256: []}
        for _ in range(3):
            runs["single"].append(trainer_speed(dev))
            runs["bare"].append(bare_loop_speed(dev))
            for k in (1, 16, 256):
                runs[k].append(ensemble_speed(k, dev))
        med = {key: sorted(v)[1] for key, v in runs.items()}
        single, bare = med["single"], med["bare"]
        for k in (1, 16, 256):
            agg = med[k]
            rows.append(f"| {dev} | {single:.0f} | {bare:.0f} | {single / bare:.2f} | {k} | {agg:.0f} | {agg / single:.2f} |")
            print(rows[-1], flush=True)
    if "cuda" not in devices:
        rows.append("| cuda | unmeasured (no GPU on this machine) | | | | | |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profiles", nargs="+", default=["test"], choices=["test", "real"])
    parser.add_argument("--notebooks", nargs="*", type=Path, default=sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")),
                        help="notebooks to time (none: trainer and ensemble figures only)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for the trainer and ensemble figures")
    parser.add_argument("--write", action="store_true", help="rewrite BENCHMARKS.md")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    lines = [f"machine: {machine()}",
             f"torch threads for the trainer and ensemble figures: {torch.get_num_threads()}; notebooks: one thread each on CPU "
             "(setup_notebook's default)"]
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    ens = ensemble_table(devices)
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
    print("\n".join(lines + [""] + ens + [""] + table))
    if args.write:
        stamp = time.strftime("%Y-%m-%d")
        text = ["# Benchmarks", "", f"Measured {stamp} with `python scripts/benchmark.py --profiles {' '.join(args.profiles)} --write`.", ""]
        text += [f"- {l}" for l in lines]
        text += ["", "Many runs at once (vanilla GAN, ring8, MLP 2x128, batch 256; a member-step is one generator step "
                 "of one member):", ""] + ens
        if args.notebooks:
            text += ["", "Notebook wall times (kernel start included):", ""] + table
        text += [""]
        (ROOT / "BENCHMARKS.md").write_text("\n".join(text))


if __name__ == "__main__":
    main()
