"""Control panels: the runs behind them train the chosen method with the chosen settings, and the panels build."""
import matplotlib
import pytest

matplotlib.use("Agg")

from course_lib import widgets  # noqa: E402


@pytest.mark.parametrize("method", widgets.ENERGY_METHODS)
def test_run_energy_gan_trains_the_chosen_method_and_draws_it(method):
    row = widgets.run_energy_gan(method, "ring8", steps=20, lr=1e-3, margin=0.5, gamma=0.7, pt_weight=0.2)
    assert row["method"] == method and len(row["history"]["e_real"]) == 20
    assert row["cfg"]["margin"] == 0.5 and row["cfg"]["gamma"] == 0.7 and row["cfg"]["lr_g"] == 1e-3
    if method == "ebgan_pt":
        assert row["objective"].pt_weight == 0.2
    if method == "began":
        assert row["objective"].gamma == 0.7
    fig = widgets.draw_energy_gan(row)
    ax = fig.axes[0]
    assert ax.get_title().startswith(widgets.compare.LABELS[method]) and ax.get_xlabel()


@pytest.mark.parametrize("steps", [5, 30, 50, 1500, 6000])
def test_magan_settings_of_the_panel_are_valid_for_any_step_count(steps):
    cfg = widgets.energy_config(steps, 1e-3, 1.0, 0.5, 0.1)
    objective = widgets.compare.make_objective("magan", cfg)  # raises if warm-up is not a whole number of epochs
    assert objective.warmup_steps == 2 * objective.epoch_steps <= max(2, steps // 5) and objective.warmup_steps <= 200


def test_bad_panel_settings_are_reported():
    with pytest.raises(ValueError, match="margin"):
        widgets.run_energy_gan("ebgan", steps=5, margin=-1.0)
    with pytest.raises(ValueError, match="gamma"):
        widgets.run_energy_gan("began", steps=5, gamma=1.5)
    with pytest.raises(ValueError, match="unknown method"):
        widgets.run_energy_gan("wgan", steps=5)


def test_panels_build_and_draw_once():
    pytest.importorskip("ipywidgets")
    panel = widgets.energy_playground(steps=20)
    assert len(panel.children) == 5
    gan_panel = widgets.gan_playground(steps=20)
    assert len(gan_panel.children) == 5
    for p in (panel, gan_panel):  # the first drawing leaves the bar alone; a click runs it to the end of the run
        button, bar = p.children[-2].children
        assert bar.value == 0
        first = p.children[-1].outputs    # the first picture is the output area's content (a PNG), not a captured display
        assert len(first) == 1 and first[0]["data"]["image/png"]
        button.click()
        assert bar.max == 20 and bar.value == 20


def test_a_failing_run_prints_its_message_instead_of_raising(capsys):
    pytest.importorskip("ipywidgets")

    def bad_run(progress):
        raise ValueError("margin m must be positive, got -1")

    panel = widgets._panel([[]], bad_run)
    assert panel.children[-1].outputs[0]["text"].startswith("ValueError: margin m must be positive")
    assert len(panel.children) == 3
    panel.children[-2].children[0].click()   # a click prints it in the output area (here: captured as printed text)
    assert "ValueError: margin m must be positive" in capsys.readouterr().out


def test_the_game_panel_redraws_at_once_when_a_control_changes(monkeypatch):
    pytest.importorskip("ipywidgets")
    panel = widgets.game_playground(steps=20)
    assert len(panel.children) == 3  # two rows of controls and the picture: no button to press
    first = panel.children[-1].outputs
    assert len(first) == 1 and first[0]["data"]["image/png"]
    calls = []
    monkeypatch.setattr(widgets, "draw_game", lambda *a: calls.append(a) or widgets.plt.figure())
    method, lr = panel.children[0].children
    method.value = "consensus"
    lr.value = 0.2
    assert [c[0] for c in calls] == ["consensus", "consensus"] and calls[-1][1] == pytest.approx(0.2)


def test_draw_game_shows_the_spiral_growing_and_consensus_shrinking():
    grow = widgets.draw_game("simultaneous", lr=0.1, steps=100)
    shrink = widgets.draw_game("consensus", lr=0.1, gamma=1.0, steps=100)
    d = lambda fig: [float(v) for v in fig.axes[0].get_title().split("→")[::1][-1:]][0]  # noqa: E731
    assert d(grow) > 1.5 > 1.0 > d(shrink)  # started at distance sqrt(2) = 1.41
    assert grow.axes[0].get_xlabel() and grow.axes[1].get_ylabel() == "Im λ"


def test_run_ebm_trains_with_the_panel_settings_and_draws_energy_and_chains():
    calls = []
    row = widgets.run_ebm("swissroll", init="noise", chain_steps=3, step_size=0.02, noise=0.5, steps=12, hidden=16,
                          progress=lambda step, total: calls.append((step, total)))
    cfg = row["run"].cfg
    assert (cfg.init, cfg.chain_steps, cfg.step_size, cfg.noise, cfg.steps) == ("noise", 3, 0.02, 0.5, 12)
    assert calls[-1] == (12, 12) and len(calls) == 12 and len(row["run"].history["gap"]) == 12
    assert row["sampler"].buffer is None and row["sampler"].steps == 3   # no buffer: fresh chains of the same length
    fig = widgets.draw_ebm(row, n=50)
    ax = fig.axes[0]
    assert "swissroll, noise chains, k = 3" in ax.get_title() and ax.get_xlabel()
    buffered = widgets.run_ebm("ring8", init="buffer", chain_steps=2, steps=5, hidden=16)
    assert buffered["sampler"].buffer is not None and "modes" in widgets.draw_ebm(buffered, n=50).axes[0].get_title()


def test_bad_ebm_panel_settings_are_reported():
    with pytest.raises(ValueError, match="step_size"):
        widgets.run_ebm(step_size=-0.1, steps=2)
    with pytest.raises(ValueError, match="chain length"):
        widgets.run_ebm(chain_steps=0, steps=2)
    with pytest.raises(ValueError, match="unknown target"):
        widgets.run_ebm("moons", steps=2)


def test_the_ebm_panel_builds_draws_and_prints_a_divergence(monkeypatch):
    pytest.importorskip("ipywidgets")
    panel = widgets.ebm_playground(steps=10)
    assert len(panel.children) == 5
    button, bar = panel.children[-2].children
    assert panel.children[-1].outputs[0]["data"]["image/png"] and bar.value == 0
    button.click()
    assert bar.max == 10 and bar.value == 10

    def diverge(*args, **kwargs):
        raise widgets.ebm.EBMDiverged("the energy diverged at update 3: lower the learning rate")

    monkeypatch.setattr(widgets.ebm, "train_ebm", diverge)
    broken = widgets.ebm_playground(steps=10)   # the message is shown in the panel instead of an exception
    assert broken.children[-1].outputs[0]["text"].startswith("EBMDiverged: the energy diverged at update 3")


def _shown(monkeypatch):
    """What the panels display beside their widget (the grid), captured."""
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda data, raw=False: shown.append(data))
    return shown


def test_a_panel_draws_its_grid_only_while_the_site_is_built(monkeypatch):
    pytest.importorskip("ipywidgets")
    import base64

    shown = _shown(monkeypatch)
    monkeypatch.delenv(widgets.GRID_VAR, raising=False)
    widgets.game_playground(steps=20)
    assert shown == []                                          # in JupyterLab: nothing extra is trained
    monkeypatch.setenv(widgets.GRID_VAR, "1")
    calls = []
    draw = widgets.draw_game
    monkeypatch.setattr(widgets, "draw_game", lambda *a: calls.append(a) or draw(*a))
    panel = widgets.game_playground(steps=20)
    grid = shown[0][widgets.GRID_MIME]
    assert grid["axes"] == [{"name": "method", "labels": ["simultaneous", "alternating", "consensus"], "start": 0},
                            {"name": "step size", "labels": ["0.03", "0.1", "0.3"], "start": 1}]
    # the first drawing, then every setting once, the first control slowest
    assert [(c[0], c[1]) for c in calls[1:]] == [(m, lr) for m in ("simultaneous", "alternating", "consensus")
                                                 for lr in (0.03, 0.1, 0.3)]
    assert len(grid["pictures"]) == 9 and grid["errors"] == [None] * 9
    assert all(base64.b64decode(p).startswith(b"\x89PNG") for p in grid["pictures"])
    assert len(set(grid["pictures"])) == 9                      # nine different pictures
    method, lr = panel.children[0].children
    assert (method.value, lr.value) == ("simultaneous", 0.1)    # the controls got their values back
    method.value = "consensus"                                  # and still redraw live
    assert calls[-1][0] == "consensus"


def test_a_grid_labels_dropdown_options_by_their_names_and_records_failures(monkeypatch):
    pytest.importorskip("ipywidgets")
    import ipywidgets as W

    method = W.Dropdown(options=[("EBGAN", "ebgan"), ("BEGAN", "began")], value="began", description="method")
    steps = W.IntSlider(value=10, min=1, max=100, description="steps")

    def run(progress):
        if steps.value == 1:
            raise ValueError("learning rate must be positive: raise it")
        return widgets.plt.figure()

    grid = widgets.panel_grid([(method, ["ebgan", "began"]), (steps, [1, 10])], run)
    assert grid["axes"][0] == {"name": "method", "labels": ["EBGAN", "BEGAN"], "start": 1}
    assert grid["errors"][0] == "ValueError: learning rate must be positive: raise it" and grid["pictures"][0] is None
    assert grid["errors"][1] is None and grid["pictures"][1]
    assert (method.value, steps.value) == ("began", 10)
    with pytest.raises(ValueError, match="must hold its start value"):
        widgets.panel_grid([(steps, [1, 5])], run)


@pytest.mark.parametrize("make", ["gan_playground", "energy_playground", "ebm_playground"])
def test_every_trained_panel_has_a_grid_that_starts_at_its_settings(monkeypatch, make):
    pytest.importorskip("ipywidgets")
    shown = _shown(monkeypatch)
    monkeypatch.setenv(widgets.GRID_VAR, "1")
    monkeypatch.setattr(widgets, "panel_grid", lambda grid, draw: {"sizes": [len(v) for _, v in grid],
                                                                  "starts": [c.value in v for c, v in grid]})
    getattr(widgets, make)(steps=10)
    grid = shown[0][widgets.GRID_MIME]
    assert all(grid["starts"]) and 6 <= int(__import__("math").prod(grid["sizes"])) <= 10
