"""Issue 25, finding 7: bad settings are refused where they are given, with a message that says what to change."""
import json
import math

import nbformat
import pytest
import torch

from course_lib import build, compare, losses, runtime, train, widgets

# ---------------------------------------------------------------- MethodConfig checks its fields when it is made


def test_finding7_methodconfig_rejects_negative_steps():
    with pytest.raises(ValueError, match=r"MethodConfig\.steps must be an integer >= 1, got -5; set steps"):
        compare.MethodConfig(steps=-5)


@pytest.mark.parametrize("name", ["steps", "batch_size", "z_dim", "hidden", "depth", "code_dim", "width", "magan_epoch",
                                  "mbd_kernels", "n_critic", "n_eval"])
@pytest.mark.parametrize("bad", [0, -1, 2.0, True, "8", None])
def test_finding7_methodconfig_rejects_zero_batch_and_other_bad_sizes(name, bad):
    with pytest.raises(ValueError, match=rf"MethodConfig\.{name} must be an integer >= 1, got {bad!r}"):
        compare.MethodConfig(**{name: bad})


def test_finding7_methodconfig_rejects_negative_warmup_and_unroll_steps_but_not_zero():
    for name in ("magan_warmup", "unroll_steps"):
        with pytest.raises(ValueError, match=rf"MethodConfig\.{name} must be an integer >= 0, got -1"):
            compare.MethodConfig(**{name: -1})
        assert getattr(compare.MethodConfig(**{name: 0}), name) == 0   # 0: no pre-training / the plain GAN


@pytest.mark.parametrize("name", ["lr_d", "lr_g", "unroll_lr"])
@pytest.mark.parametrize("bad", [-1e-3, 0, 0.0, float("nan"), float("inf"), "1e-3", None])
def test_finding7_methodconfig_rejects_negative_learning_rates(name, bad):
    with pytest.raises(ValueError, match=rf"MethodConfig\.{name}: a learning rate must be a positive finite number.*"
                                         r"typical values are 1e-4 to 1e-2"):
        compare.MethodConfig(**{name: bad})


def test_finding7_methodconfig_rejects_unknown_generator_loss():
    with pytest.raises(ValueError, match=r"generator_loss='foo' is not a generator loss; set generator_loss to one of") as err:
        compare.MethodConfig(generator_loss="foo")
    assert all(name in str(err.value) for name in losses.GENERATOR_LOSSES)   # the names the GAN objective accepts
    with pytest.raises(ValueError, match="generator_loss"):
        compare.MethodConfig(generator_loss=["minimax"])
    for name in losses.GENERATOR_LOSSES:
        assert compare.MethodConfig(generator_loss=name).generator_loss == name


def test_finding7_methodconfig_rejects_negative_margin():
    with pytest.raises(ValueError, match=r"MethodConfig\.margin \(EBGAN's margin m\) must be a finite number >= 0, got -1\.0; "
                                         r"change margin to a value >= 0"):
        compare.MethodConfig(margin=-1.0)


@pytest.mark.parametrize("name, bad", [
    ("gamma", 0.0), ("gamma", 1.5), ("gamma", -0.5), ("gamma", float("nan")),
    ("lambda_k", -0.01), ("beta1", 1.0), ("beta1", -0.1), ("clip", 0.0), ("clip", -0.01), ("consensus", -1.0),
    ("pt_weight", -0.1), ("ls_lambda", -1.0), ("lipschitz_weight", float("inf")), ("gp_lambda", -10.0),
    ("maxent_lam", float("nan")), ("mi_weight", -1.0), ("delta_scale", -1.0), ("margin", float("inf")), ("margin", "1"),
])
def test_finding7_methodconfig_rejects_out_of_range_hyperparameters(name, bad):
    with pytest.raises(ValueError, match=rf"MethodConfig\.{name}.* must be a finite number .*got {bad!r}.*change {name} to"):
        compare.MethodConfig(**{name: bad})


def test_finding7_methodconfig_rejects_non_bool_switches():
    for name in ("simultaneous", "sigmoid_output"):
        with pytest.raises(ValueError, match=rf"MethodConfig\.{name} must be True or False, got 'no'"):
            compare.MethodConfig(**{name: "no"})


def test_finding7_methodconfig_checks_each_member_of_per_member_values():
    # an ensemble's objective gets one MethodConfig whose HYPER_FIELDS hold one value per member (_per_member)
    cfg = compare.MethodConfig(lr_d=[1e-3, 2e-3], margin=(0.5, 2.0), gamma=[0.3, 1.0])
    assert cfg.margin == (0.5, 2.0)
    merged = compare._per_member([compare.MethodConfig(margin=m) for m in (0.5, 1.0)], "ebgan")
    assert merged.margin == [0.5, 1.0]
    with pytest.raises(ValueError, match=r"MethodConfig\.margin\[1\] \(EBGAN's margin m\) must be .*got -2\.0"):
        compare.MethodConfig(margin=[1.0, -2.0])
    with pytest.raises(ValueError, match=r"MethodConfig\.lr_g\[0\]: a learning rate of 1e\+39"):
        compare.MethodConfig(lr_g=(1e39, 1e-3))
    with pytest.raises(ValueError, match=r"MethodConfig\.gamma: an empty list; give one value, or one per ensemble member"):
        compare.MethodConfig(gamma=[])
    with pytest.raises(ValueError, match=r"MethodConfig\.steps takes one value, got \[10, 20\]; only .* may hold one value "
                                         r"per ensemble member"):
        compare.MethodConfig(steps=[10, 20])


def test_finding7_with_overrides_checks_the_new_values():
    base = compare.MethodConfig(steps=10)
    with pytest.raises(ValueError, match=r"MethodConfig\.batch_size must be an integer >= 1, got 0"):
        compare.with_overrides(base, batch_size=0)
    with pytest.raises(ValueError, match="unknown MethodConfig fields"):
        compare.with_overrides(base, batchsize=8)
    assert compare.with_overrides(base, gamma=1.0).gamma == 1.0


def test_finding7_methodconfig_accepts_the_settings_the_course_uses():
    compare.MethodConfig()
    compare.MethodConfig(steps=2, batch_size=16, hidden=8, magan_warmup=2, magan_epoch=1, n_eval=50)
    compare.MethodConfig(gamma=1.0, margin=0.05, lipschitz_weight=0.0, lr_d=1e-4, lr_g=2e-4, beta1=0.9, unroll_steps=10,
                         unroll_lr=0.01, n_critic=5, simultaneous=True, consensus=0.5, maxent_lam=0.1, mi_weight=0.0,
                         generator_loss="minimax", lambda_k=0.5, code_dim=2)
    cfg = widgets.energy_config(steps=60, lr=10 ** -1.5, margin=1.0, gamma=0.5, pt_weight=0.1)   # the panels' extremes
    assert cfg.magan_epoch >= 1
    # an ensemble of members that differ in HYPER_FIELDS still builds (the merged config holds lists)
    cfgs = [compare.with_overrides(compare.MethodConfig(hidden=8, code_dim=2), margin=m, lr_d=lr)
            for m, lr in ((0.5, 1e-3), (2.0, 3e-4))]
    G, D, objective = compare.make_toy_ensemble("ebgan", [0, 1], cfgs)
    assert objective.members == 2


# ---------------------------------------------------------------- one rule for learning rates


def test_finding7_learning_rate_above_ten_is_rejected():
    assert compare.check_learning_rate is train.check_learning_rate  # one rule, for MethodConfig and TrainConfig
    with pytest.raises(ValueError, match=r"MethodConfig\.lr_d: a learning rate of 1e\+39 is too large: learning rates above 10 "
                                         r"never train .*typical values are 1e-4 to 1e-2"):
        compare.MethodConfig(lr_d=1e39)
    with pytest.raises(ValueError, match=r"lr: a learning rate of 10\.5 is too large"):
        compare.check_learning_rate("lr", 10.5)
    for bad in (float("inf"), float("nan"), -1.0, 0, True, "0.1", None, torch.tensor(1e-3)):
        with pytest.raises(ValueError, match=r"lr: a learning rate must be a positive finite number"):
            compare.check_learning_rate("lr", bad)
    assert compare.check_learning_rate("lr", 10) == 10.0
    assert compare.check_learning_rate("lr", 1e-4) == 1e-4
    assert not math.isfinite(torch.tensor(1e39, dtype=torch.float32).item())   # why: such a rate overflows float32


# ---------------------------------------------------------------- COURSE_DEVICE


def test_finding7_test_profile_ignores_course_device(monkeypatch):
    monkeypatch.setenv(runtime.PROFILE_VAR, "test")
    for value in ("cuda", "mps", "gpu0", "cpu"):
        monkeypatch.setenv(runtime.DEVICE_VAR, value)
        assert runtime.get_device() == torch.device("cpu")
    assert "COURSE_DEVICE" in runtime.get_device.__doc__ and "test profile" in runtime.get_device.__doc__


def _no_accelerators(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    if getattr(torch.backends, "mps", None) is not None:
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_finding7_course_device_cuda_without_cuda_names_the_variable(monkeypatch):
    monkeypatch.setenv(runtime.PROFILE_VAR, "real")
    _no_accelerators(monkeypatch)
    monkeypatch.setenv(runtime.DEVICE_VAR, "cuda")
    with pytest.raises(ValueError, match=r"COURSE_DEVICE='cuda' names a CUDA device, but this machine has no CUDA device.*"
                                         r"set COURSE_DEVICE to one of \['cpu'\] or unset it"):
        runtime.get_device()
    monkeypatch.setenv(runtime.DEVICE_VAR, "mps")
    with pytest.raises(ValueError, match=r"COURSE_DEVICE='mps' names Apple's MPS device.*\['cpu'\]"):
        runtime.get_device()
    monkeypatch.setenv(runtime.DEVICE_VAR, "cpu")
    assert runtime.get_device() == torch.device("cpu")
    monkeypatch.delenv(runtime.DEVICE_VAR)
    assert runtime.get_device() == torch.device("cpu")


def test_finding7_course_device_unparsable_or_missing_index_is_rejected(monkeypatch):
    monkeypatch.setenv(runtime.PROFILE_VAR, "full")
    _no_accelerators(monkeypatch)
    monkeypatch.setenv(runtime.DEVICE_VAR, "gpu0")
    with pytest.raises(ValueError, match=r"COURSE_DEVICE='gpu0' is not a device name; set COURSE_DEVICE to one of \['cpu'\]"):
        runtime.get_device()
    monkeypatch.setenv(runtime.DEVICE_VAR, "meta")
    with pytest.raises(ValueError, match=r"COURSE_DEVICE='meta': the course computes on the CPU, CUDA or MPS"):
        runtime.get_device()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setenv(runtime.DEVICE_VAR, "cuda:3")
    with pytest.raises(ValueError, match=r"COURSE_DEVICE='cuda:3' .* only 1 CUDA device.*'cuda:0'"):
        runtime.get_device()
    monkeypatch.setenv(runtime.DEVICE_VAR, "cuda:0")
    assert runtime.get_device() == torch.device("cuda:0")
    with pytest.raises(ValueError, match=r"name='tpu' is not a device name"):
        runtime.get_device("tpu")


# ---------------------------------------------------------------- build/html/timings.json


@pytest.mark.parametrize("content", [b"\x00\xff garbage {", b"", b'{"01_a": 3.0}', b'[{"name": 1, "seconds": 2.0}]',
                                     b'[{"name": "01_a", "seconds": "slow"}]', b'[{"name": "01_a"}]', b'[3]',
                                     b'[{"name": "01_a", "seconds": -1}]', b'[' * 100000])
def test_finding7_damaged_timings_file_is_ignored_with_a_warning(tmp_path, capsys, content):
    path = tmp_path / "timings.json"
    path.write_bytes(content)
    assert build._read_timings(path) == {}
    err = capsys.readouterr().err
    assert err.startswith("warning: ignoring") and str(path) in err and err.count("\n") == 1


def test_finding7_good_or_missing_timings_file_is_read_quietly(tmp_path, capsys):
    path = tmp_path / "timings.json"
    assert build._read_timings(path) == {}
    records = [dict(name="01_a", seconds=3.5, status="ok", title="A"), dict(name="02_b", seconds=0, status="FAILED: x")]
    path.write_text(json.dumps(records))
    assert build._read_timings(path) == {r["name"]: r for r in records}
    assert capsys.readouterr().err == ""


def test_finding7_render_only_build_survives_a_damaged_timings_file(tmp_path, monkeypatch, capsys):
    out, executed = tmp_path / "html", tmp_path / "executed"
    out.mkdir()
    executed.mkdir()
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = [nbformat.v4.new_markdown_cell("# 01 a\n\n**Question.** Why?\n\n## 1. Part")]
    nbformat.write(nb, executed / "01_a.ipynb")
    (out / "timings.json").write_text("{not json")

    def fake_mathjax(dest):   # the real copy is slow and beside the point here
        (dest / "mathjax").mkdir(exist_ok=True)
        (dest / "mathjax" / "MathJax.js").write_text("")
        return dest / "mathjax"

    monkeypatch.setattr(build, "copy_mathjax", fake_mathjax)
    code = build.main([str(tmp_path / "01_a.ipynb"), "--out", str(out), "--executed", str(executed), "--render-only"])
    assert code == 0 and (out / "01_a.html").exists()
    assert "warning: ignoring" in capsys.readouterr().err
    assert [r["name"] for r in json.loads((out / "timings.json").read_text())] == ["01_a"]   # written afresh
