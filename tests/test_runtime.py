import pytest
import torch

from course_lib import runtime


def test_profile_defaults_to_real_and_reads_the_environment(monkeypatch):
    monkeypatch.delenv(runtime.PROFILE_VAR, raising=False)
    assert runtime.profile() == "real"
    monkeypatch.setenv(runtime.PROFILE_VAR, "test")
    assert runtime.profile() == "test" and runtime.is_test()


def test_unknown_profile_is_rejected_with_the_allowed_names(monkeypatch):
    monkeypatch.setenv(runtime.PROFILE_VAR, "fast")
    with pytest.raises(ValueError, match="test.*real.*full"):
        runtime.profile()


def test_full_profile_is_real_with_its_changes_and_everything_real_accepts(monkeypatch):
    monkeypatch.setenv(runtime.PROFILE_VAR, "full")
    assert runtime.profile() == "full" and runtime.is_full() and not runtime.is_test()
    s = runtime.settings(test=dict(steps=3, seeds=(0,)), real=dict(steps=3000, seeds=(0, 1)), full=dict(steps=20000))
    assert (s.steps, s.seeds) == (20000, (0, 1))
    assert runtime.settings(test=dict(steps=3), real=dict(steps=3000)).steps == 3000   # no changes given: real's
    with pytest.raises(ValueError, match="not among the real settings"):
        runtime.settings(test=dict(steps=3), real=dict(steps=3000), full=dict(epochs=9))
    monkeypatch.setenv(runtime.PROFILE_VAR, "real")
    assert runtime.settings(test=dict(steps=3), real=dict(steps=3000), full=dict(steps=20000)).steps == 3000
    monkeypatch.setenv(runtime.PROFILE_VAR, "FULL ")
    assert runtime.profile() == "full"


def test_settings_pick_the_active_profile_and_require_the_same_keys(monkeypatch):
    monkeypatch.setenv(runtime.PROFILE_VAR, "test")
    assert runtime.settings(test=dict(steps=3), real=dict(steps=3000)).steps == 3
    monkeypatch.setenv(runtime.PROFILE_VAR, "real")
    assert runtime.settings(test=dict(steps=3), real=dict(steps=3000)).steps == 3000
    with pytest.raises(ValueError, match="same keys"):
        runtime.settings(test=dict(steps=3), real=dict(epochs=3))


def test_test_profile_runs_on_cpu_and_device_variable_overrides(monkeypatch):
    monkeypatch.setenv(runtime.PROFILE_VAR, "test")
    monkeypatch.delenv(runtime.DEVICE_VAR, raising=False)
    assert runtime.get_device().type == "cpu"
    monkeypatch.setenv(runtime.DEVICE_VAR, "cpu")
    assert runtime.get_device() == torch.device("cpu")


def test_seeding_makes_draws_repeatable():
    g1 = runtime.seed_everything(7)
    a = torch.randn(3), torch.randn(3, generator=g1)
    g2 = runtime.seed_everything(7)
    b = torch.randn(3), torch.randn(3, generator=g2)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    with pytest.raises(ValueError):
        runtime.seed_everything(-1)


def test_num_threads_sets_and_restores_and_yields_to_busy_cores(monkeypatch):
    import os

    import torch

    from course_lib import runtime
    before = torch.get_num_threads()
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.0, 1.0, 1.0))    # only us: all four cores free
    assert runtime.free_cores() == 4
    with runtime.num_threads(3):
        assert torch.get_num_threads() == 3
    assert torch.get_num_threads() == before
    monkeypatch.setattr(os, "getloadavg", lambda: (4.2, 4.0, 4.0))    # three other busy threads
    assert runtime.free_cores() == 1
    with runtime.num_threads(3):
        assert torch.get_num_threads() == 1
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 9.0, 9.0))    # overloaded: never below one thread
    assert runtime.free_cores() == 1
    with pytest.raises(ValueError, match="positive integer"):
        with runtime.num_threads(0):
            pass
