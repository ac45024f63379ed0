"""Issue 25, finding 1: a run's key sees every edit of a notebook's code, and is the same in every process.

A notebook cell is played by source code executed into a fresh namespace (its functions and classes
then belong to no installed module, as a notebook's do). Each edit the issue reproduced gets a test
that makes it and sees the key change; ``test_finding1_*_fresh_process`` check that an unchanged cell
keys the same (and loads its run) in another process, whatever the hash seed.
"""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from course_lib import keys, store

PROJECT = Path(__file__).resolve().parents[1]


def cell(source: str) -> dict:
    """Run ``source`` as a notebook cell would: in a namespace of its own, not an installed module."""
    namespace = {"__name__": "notebook_cell"}
    exec(compile(textwrap.dedent(source), "<cell>", "exec"), namespace)
    return namespace


def key(obj) -> str:
    return keys.key_of({"data": obj})


def test_finding1_a_changed_function_name_inside_a_function_changes_the_key():
    randn = cell("import torch\ndef sample(n, g):\n    return torch.randn(n, 2, generator=g)\n")["sample"]
    rand = cell("import torch\ndef sample(n, g):\n    return torch.rand(n, 2, generator=g)\n")["sample"]
    assert key(randn) != key(rand)
    assert key(randn) == key(cell("import torch\ndef sample(n, g):\n    return torch.randn(n, 2, generator=g)\n")["sample"])


def test_finding1_a_changed_default_or_keyword_default_changes_the_key():
    src = "import torch\ndef sample(n, g, scale={s}, *, shift={t}):\n    return scale * torch.randn(n, 2, generator=g) + shift\n"
    base = key(cell(src.format(s=1.0, t=0.0))["sample"])
    assert key(cell(src.format(s=2.0, t=0.0))["sample"]) != base
    assert key(cell(src.format(s=1.0, t=3.0))["sample"]) != base


def test_finding1_a_changed_method_body_of_a_notebook_class_changes_the_key():
    src = """
    import torch
    class Ring:
        def __init__(self, radius):
            self.radius = radius
        def sample(self, n, g):
            angle = torch.rand(n, generator=g) * 6.283
            return self.radius * torch.stack([angle.cos(), angle.{fn}()], 1)
    target = Ring(2.0)
    """
    assert key(cell(src.format(fn="sin"))["target"].sample) != key(cell(src.format(fn="cos"))["target"].sample)
    assert key(cell(src.format(fn="sin"))["target"].sample) == key(cell(src.format(fn="sin"))["target"].sample)


def test_finding1_a_changed_base_class_method_changes_the_key():
    src = """
    class Base:
        def scale(self):
            return {v}
    class Target(Base):
        def sample(self, n, g):
            return self.scale()
    target = Target()
    """
    assert key(cell(src.format(v=1))["target"].sample) != key(cell(src.format(v=2))["target"].sample)


def test_finding1_a_changed_notebook_network_activation_changes_the_key():
    src = """
    import torch
    from torch import nn
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)
        def forward(self, x):
            return torch.{act}(self.fc(x))
    """
    nets = []
    for act in ("relu", "tanh"):
        torch.manual_seed(0)
        nets.append(cell(src.format(act=act))["Net"]())
    assert keys.key_of({"G": nets[0]}) != keys.key_of({"G": nets[1]})


def test_finding1_closures_nested_functions_and_globals_they_read_are_keyed():
    make = "def make(w):\n    def f(n, g):\n        return [w * i for i in range(n)]\n    return f\nsample = make({w})\n"
    assert key(cell(make.format(w=1))["sample"]) != key(cell(make.format(w=2))["sample"])
    helper = "def helper():\n    return {v}\ndef sample(n, g):\n    return helper()\n"
    assert key(cell(helper.format(v=1))["sample"]) != key(cell(helper.format(v=2))["sample"])
    comprehension = "def sample(n, g):\n    return [SCALE * i for i in range(n)]\nSCALE = {v}\n"  # a global read in a comprehension
    assert key(cell(comprehension.format(v=1))["sample"]) != key(cell(comprehension.format(v=2))["sample"])
    recursive = cell("def sample(n, g):\n    return 0 if n == 0 else sample(n - 1, g)\n")["sample"]
    assert key(recursive) == key(recursive)  # a function that calls itself keys without looping


_STABLE = """
import sys
sys.path.insert(0, {project!r})
from course_lib import keys
ns = {{"__name__": "notebook_cell"}}
exec('''
import torch
def sample(n, g, kinds={{"ring", "grid", "spiral"}}):
    noise = lambda m: torch.randn(m, 2, generator=g)
    picked = [k for k in kinds if k in {{"ring", "grid"}}]
    return noise(n) * len(picked)
''', ns)
print(keys.key_of({{"data": ns["sample"]}}))
"""


def test_finding1_nested_code_and_set_literals_key_the_same_in_every_process():
    script = _STABLE.format(project=str(PROJECT))
    out = set()
    for seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out.add(subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout)
    assert len(out) == 1, out


_OBJECTIVE_CELL = """
import sys
sys.path.insert(0, {project!r})
import torch
from course_lib import compare, losses, toys
from course_lib.train import TrainConfig, train
ns = {{"__name__": "notebook_cell"}}
exec('''
import torch
from course_lib import losses
class Mine(losses.GANObjective):
    def g_loss(self, D, x_fake, z):
        loss, parts = super().g_loss(D, x_fake, z)
        return loss{power}, parts
''', ns)
torch.manual_seed(0)
G, D, _ = compare.make_toy_method("gan", compare.MethodConfig(hidden=8))
train(G, D, toys.ring8().sample, ns["Mine"]("non_saturating"), TrainConfig(steps=10, batch_size=16))
"""


@pytest.mark.parametrize("edited", [False, True])
def test_finding1_a_notebook_objective_loads_unchanged_in_a_fresh_process_and_retrains_when_edited(tmp_path, edited):
    env = dict(os.environ, COURSE_STORE=str(tmp_path / "runs"), COURSE_PROFILE="test", PYTHONHASHSEED="random")
    first = subprocess.run([sys.executable, "-c", _OBJECTIVE_CELL.format(project=str(PROJECT), power="")],
                           env=env, capture_output=True, text=True, check=True)
    assert "loaded from the run store" not in first.stderr
    second = subprocess.run([sys.executable, "-c", _OBJECTIVE_CELL.format(project=str(PROJECT), power=" ** 3" if edited else "")],
                            env=env, capture_output=True, text=True, check=True)
    assert ("loaded from the run store" in second.stderr) is not edited, second.stderr
    entries = list((tmp_path / "runs").rglob("*.pt"))
    assert len([p for p in entries if not p.name.startswith(".")]) == (2 if edited else 1)


def test_finding1_an_object_that_cannot_be_keyed_is_not_stored(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv(store.ENV, str(tmp_path / "runs"))
    unkeyable = cell("class Slotted:\n    __slots__ = ('a',)\n")["Slotted"]()
    payload, how, _ = store.remember({"data": unkeyable}, lambda: {"x": torch.ones(1)})
    assert how == "trained" and "without storing" in capfd.readouterr().err
    assert not list((tmp_path / "runs").rglob("*.pt"))
