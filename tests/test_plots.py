import matplotlib.pyplot as plt
import torch

from course_lib import models, plots, toys
from course_lib.build import title_of
from course_lib.site import index_source
from course_lib.train import History


def test_surface_2d_squashes_logits_into_probabilities_and_labels_axes():
    t = toys.ring8()
    D = models.Discriminator(2, 16, 1)
    fig, ax = plt.subplots()
    im = plots.plot_surface_2d(ax, D, t, x_fake=torch.zeros(10, 2), n=20)
    values = im.get_array()
    assert values.min() >= 0 and values.max() <= 1 and values.size == 400
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"
    assert len(ax.get_legend().get_texts()) == 2
    plt.close(fig)


def test_surface_2d_is_silent_for_huge_logits_and_zooms_to_given_bounds():
    """sigmoid of logits of +-1e4 is 0 or 1 without an overflow warning; ``bounds`` sets the grid and the axes."""
    import warnings
    t = toys.make_target("origin")
    fig, ax = plt.subplots()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        im = plots.plot_surface_2d(ax, lambda x: 1e4 * x[:, :1], t, n=10, bounds=((-0.1, 0.1), (-0.2, 0.2)))
    v = im.get_array()
    assert v.min() == 0.0 and v.max() == 1.0
    assert ax.get_xlim() == (-0.1, 0.1) and ax.get_ylim() == (-0.2, 0.2)
    plt.close(fig)


def test_surface_1d_draws_discriminator_density_and_histogram():
    t = toys.gaussian1d()
    fig, ax = plt.subplots()
    plots.plot_surface_1d(ax, models.Discriminator(1, 8, 1), t, x_fake=torch.randn(100, 1))
    labels = [x.get_text() for x in ax.get_legend().get_texts()]
    assert labels[0] == "D(x)" and "p_{data}" in labels[1] and "p_G" in labels[2]
    assert ax.get_xlabel() == "x"
    plt.close(fig)


def test_history_curves_are_smoothed_moving_averages():
    h = History()
    h.log["d_loss"] = [0.0, 2.0, 4.0, 6.0]
    fig, ax = plt.subplots()
    plots.plot_history(ax, h, ["d_loss"], smooth=2)
    assert list(ax.lines[0].get_ydata()) == [1.0, 3.0, 5.0]
    plt.close(fig)


def test_animation_renders_to_html_without_ffmpeg():
    html = plots.animate([1, 2, 3], lambda f, ax: ax.plot([0, f], [0, f]), figsize=(2, 2))
    assert "<script" in html.data and html.data.count("data:image/png;base64") == 3
    assert "font-awesome" not in html.data and ".anim-buttons .fa-play::before" in html.data   # the player's icons, offline


def test_index_page_links_every_notebook(tmp_path):
    rows = [dict(name="04_original_gan", html="04_original_gan.html", title="The original GAN", seconds=3.0, status="ok"),
            dict(name="05_x", html="05_x.html", title="EBGAN", seconds=4.0, status="ok")]
    page = index_source(rows, "real")
    assert 'href="04_original_gan.html"' in page and 'href="05_x.html"' in page
    assert "\n04_original_gan\n05_x\nreferences\n```" in page     # the toctree: the sidebar and previous / next


def test_title_of_reads_the_first_heading():
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1"), nbformat.v4.new_markdown_cell("# 4. The GAN\ntext")])
    assert title_of(nb) == "4. The GAN"


def test_the_orange_points_can_be_named_for_what_they_are():
    fig, (a, b) = plt.subplots(1, 2)
    ring = toys.ring8()
    plots.plot_samples(a, ring, ring.sample(10), n_real=10)
    plots.plot_surface_2d(b, lambda x: -(x ** 2).sum(1), ring, ring.sample(10), n=20, n_real=10,
                          fake_label="MCMC chain samples")
    assert [t.get_text() for t in a.get_legend().get_texts()][-1] == "generated $G(z)$"
    assert [t.get_text() for t in b.get_legend().get_texts()][-1] == "MCMC chain samples"
    plt.close(fig)
