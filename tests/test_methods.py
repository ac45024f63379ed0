"""Issue 26: each method is declared once (``course_lib.methods``), a new one is added in one place and trains
everywhere, and targets may be objects wherever they may be names."""
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from course_lib import compare, losses, methods, models, sweep, toys, widgets

PACKAGE = Path(compare.__file__).resolve().parent
TINY = compare.MethodConfig(steps=20, batch_size=32, hidden=16, depth=1, code_dim=1, n_eval=500, magan_warmup=10,
                            magan_epoch=5)


class HingeObjective(losses.Objective):
    """The hinge GAN (Lim & Ye 2017): L_D = E relu(1 - D(x)) + E relu(1 + D(G(z))), L_G = -E D(G(z))."""

    name = "hinge"

    def d_loss(self, D, x_real, x_fake):
        loss = F.relu(1 - D(x_real)).mean(-1) + F.relu(1 + D(x_fake)).mean(-1)
        return loss, {"d_loss": loss.detach()}

    def g_loss(self, D, x_fake, z):
        loss = -D(x_fake).mean(-1)
        return loss, {"g_loss": loss.detach()}


@pytest.fixture
def hinge():
    """A new method, registered in a few lines: nothing else in the library is touched."""
    m = methods.register(methods.Method(
        "hinge", "hinge GAN", "Lim & Ye 2017, arXiv:1705.02894", kind="variant",
        objective=lambda cfg, seed, T: HingeObjective(),
        toy_D=lambda cfg, x_dim: models.Discriminator(x_dim, cfg.hidden, cfg.depth)))
    yield m
    del methods.REGISTRY["hinge"]


def test_a_registered_method_trains_alone_in_an_ensemble_and_in_a_sweep(hinge, monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_STORE", "off")
    row = compare.run_toy("hinge", "ring8", 0, TINY, progress=False)
    assert row["method"] == "hinge" and 0 <= row["modes"] <= 8
    rows = compare.run_toy_ensemble("hinge", ["ring8", "grid25"], [0, 1], TINY, progress=False)
    assert rows[0]["modes"] == row["modes"] and rows[0]["hq"] == pytest.approx(row["hq"], abs=1e-6)
    swept = sweep.run_sweep([sweep.Run("hinge", "ring8", 0), sweep.Run("hinge", "grid25", 1)], TINY, progress=False)
    assert [r["modes"] for r in swept] == [r["modes"] for r in rows]
    assert compare.LABELS["hinge"] == "hinge GAN"
    assert sweep.tuned(swept) == {("ring8", "hinge"): {}, ("grid25", "hinge"): {}}  # it reads no setting of another method


def test_registering_checks_the_settings_a_method_reads():
    with pytest.raises(ValueError, match="not MethodConfig fields"):
        methods.register(methods.Method("bad", "bad", "-", objective=None, toy_D=None, settings=("marginn",)))
    with pytest.raises(ValueError, match="registered already"):
        methods.register(methods.get("gan"))
    with pytest.raises(ValueError, match="per_member"):
        methods.Method("bad", "bad", "-", objective=None, toy_D=None, settings=("margin",), per_member=("gamma",))
    with pytest.raises(ValueError, match="unknown method 'sngan'"):
        compare.make_toy_method("sngan")


def test_every_registered_method_reads_only_methodconfig_fields_and_names_its_paper():
    fields = set(compare.MethodConfig.__dataclass_fields__)
    for m in methods.REGISTRY.values():
        assert set(m.settings) <= fields - set(methods.SHARED_SETTINGS), m.name
        assert re.search(r"(19|20)\d\d", m.paper), m.name
    assert set(methods.SHARED_SETTINGS) <= fields


def test_no_per_method_if_chains_outside_the_registry():
    """The registry is the only place that names a method's parts."""
    pattern = re.compile(r"""method\s*(==|!=|\bin\b|\bnot in\b)\s*[("'\[]""")
    named = re.compile("|".join(rf"""["']{n}["']""" for n in methods.REGISTRY))  # a registered method's name as a literal
    offenders = [f"{p.name}:{i}: {line.strip()}" for p in sorted(PACKAGE.glob("*.py")) if p.name != "methods.py"
                 for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line) and named.search(line)]
    assert not offenders, offenders


def test_ensembles_share_only_what_a_method_reads():
    """Two GAN runs differing in EBGAN's margin (which the GAN does not read) train as one ensemble; EBGAN's do too
    (its margin may vary per member); two EBGAN runs of different code sizes may not."""
    a, b = TINY, compare.with_overrides(TINY, margin=3.0)
    assert compare.shared_groups([a, b], method="gan") == [[0, 1]]
    assert compare.shared_groups([a, b], method="ebgan") == [[0, 1]]
    assert compare.shared_groups([a, compare.with_overrides(TINY, code_dim=2)], method="ebgan") == [[0], [1]]


SPIRAL = toys.GaussianMixture([[(0.5 + k / 8) * float(torch.cos(torch.tensor(k * 0.8 + arm * 2.094))),
                                (0.5 + k / 8) * float(torch.sin(torch.tensor(k * 0.8 + arm * 2.094)))]
                               for arm in range(3) for k in range(8)], std=0.02, name="spiral24")


def test_a_target_object_of_ones_own_trains_everywhere_a_name_does(monkeypatch):
    monkeypatch.setenv("COURSE_STORE", "off")
    assert "spiral24" not in toys.TARGETS
    row = compare.run_toy("gan", SPIRAL, 0, TINY, progress=False)
    assert row["target"] == "spiral24" and row["n_modes"] == 24
    rows = compare.compare(["gan", "ebgan"], [SPIRAL, "ring8"], seeds=(0,), cfg=TINY, progress=False)
    assert [(r["target"], r["method"]) for r in rows] == [("spiral24", "gan"), ("spiral24", "ebgan"),
                                                           ("ring8", "gan"), ("ring8", "ebgan")]
    assert rows[0]["modes"] == row["modes"]
    swept = sweep.run_sweep([sweep.Run("gan", SPIRAL, 0)], TINY, progress=False)
    assert swept[0]["modes"] == row["modes"] and swept[0]["n_modes"] == 24
    panel = widgets.run_energy_gan("ebgan", SPIRAL, steps=10)
    assert panel["n_modes"] == 24 and panel["target_object"] is SPIRAL
    assert widgets.run_gan(SPIRAL, steps=5, hidden=8)[0] is SPIRAL
    with pytest.raises(ValueError, match="sample"):
        compare.run_toy("gan", object(), 0, TINY, progress=False)
