"""The course's one bibliography: every chapter cites by key, every key resolves, every entry is cited, each chapter's
reference list is the one its citations make, and the site turns citations into links that land on their entries."""
from pathlib import Path

import nbformat
import pytest

from course_lib import bibliography as bib
from course_lib import build

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

SMALL_BIB = r"""
@inproceedings{zhao2017energy,
  author = {Junbo Zhao and Michael Mathieu and Yann LeCun},
  title = {Energy-based Generative Adversarial Network},
  booktitle = {International Conference on Learning Representations ({ICLR})},
  year = {2017}, eprint = {1609.03126}, archiveprefix = {arXiv}}
@article{arjovsky2017towards,
  author = {Martin Arjovsky and L{\'e}on Bottou},
  title = {Towards Principled Methods for Training {GAN}s},
  journal = {arXiv preprint}, year = {2017}, eprint = {1701.04862}, archiveprefix = {arXiv}}
@article{qi2017loss,
  author = {Guo-Jun Qi}, title = {Loss-Sensitive Generative Adversarial Networks on {L}ipschitz Densities},
  journal = {International Journal of Computer Vision}, year = {2020}}
@book{efron1993introduction,
  author = {Bradley Efron and Robert J. Tibshirani}, title = {An Introduction to the Bootstrap},
  publisher = {Chapman \& Hall}, year = {1993}}
"""


@pytest.fixture
def entries(tmp_path):
    path = tmp_path / "refs.bib"
    path.write_text(SMALL_BIB)
    return bib.load(path)


def test_every_chapter_cites_by_key_every_key_resolves_every_entry_is_cited_and_each_reference_list_is_current():
    assert len(CHAPTERS) == 15
    assert bib.problems(CHAPTERS) == []


def test_the_bibliography_holds_what_a_syllabus_needs():
    entries = bib.load()
    assert len(entries) >= 30
    for e in entries.values():
        assert e.authors and e.year.isdigit() and e.title, e.key
        assert e.venue or e.arxiv, f"{e.key}: neither a venue nor an arXiv id"
        if e.arxiv:
            assert len(e.arxiv.split(".")[0]) == 4 and e.arxiv.replace(".", "").isdigit(), e.key


def test_entries_read_as_the_chapters_print_them(entries):
    z, a, q = entries["zhao2017energy"], entries["arjovsky2017towards"], entries["qi2017loss"]
    assert (z.short(), a.short(), q.short()) == ("Zhao et al.", "Arjovsky & Bottou", "Qi")
    assert z.reference() == ("J. Zhao, M. Mathieu, Y. LeCun (2017), *Energy-based Generative Adversarial Network*, "
                             "International Conference on Learning Representations (ICLR), arXiv:1609.03126.")
    assert a.reference() == "M. Arjovsky, L. Bottou (2017), *Towards Principled Methods for Training GANs*, arXiv:1701.04862."
    assert q.authors == (("G.-J.", "Qi"),) and q.reference().endswith("International Journal of Computer Vision.")
    assert entries["efron1993introduction"].reference() == \
        "B. Efron, R. J. Tibshirani (1993), *An Introduction to the Bootstrap*, Chapman & Hall."


def test_roles_become_words_and_links(entries):
    text = "As {cite:t}`zhao2017energy` show (see also {cite:p}`arjovsky2017towards, qi2017loss`)."
    assert bib.citations(text + " {cite:t}`qi2017loss`") == ["zhao2017energy", "arjovsky2017towards", "qi2017loss"]
    assert bib.render_roles(text, entries, link=None) == \
        "As Zhao et al. (2017) show (see also (Arjovsky & Bottou 2017; Qi 2020))."
    linked = bib.render_roles(text, entries)
    assert '<a class="cite" href="references.html#zhao2017energy">Zhao et al. (2017)</a>' in linked
    assert linked.count('class="cite"') == 3
    with pytest.raises(KeyError, match="cited but not in references.bib.*nobody2020"):
        bib.render_roles("{cite:p}`nobody2020`", entries)


def test_a_reference_list_is_rewritten_from_the_twins_citations(tmp_path, entries):
    twin = tmp_path / "07_x.py"
    twin.write_text("# %% [markdown]\n# # 07 · X\n#\n# As {cite:t}`zhao2017energy` and {cite:p}`qi2017loss` say.\n\n"
                    "# %%\nx = 1  # {cite:t}`arjovsky2017towards` in code is not a citation\n\n"
                    "# %% [markdown]\n# **References.** stale text\n# over two lines.\n#\n# Next: chapter 08.\n")
    assert bib.sync_py(twin, entries) is True
    lines = twin.read_text().splitlines()
    i = lines.index(next(l for l in lines if l.startswith("# **References.**")))
    para = " ".join(l[2:] for l in lines[i:lines.index("#", i)])
    assert para == bib.reference_paragraph(["zhao2017energy", "qi2017loss"], entries)
    assert para.index("G.-J. Qi") < para.index("J. Zhao") and "Arjovsky" not in para   # sorted by author; code is not cited
    assert "# Next: chapter 08." in lines and all(len(l) <= 120 for l in lines)
    assert bib.sync_py(twin, entries) is False                                                # now current
    bare = tmp_path / "08_y.py"
    bare.write_text("# %% [markdown]\n# {cite:t}`qi2017loss`\n")
    with pytest.raises(ValueError, match="no paragraph that opens with"):
        bib.sync_py(bare, entries)


def test_problems_name_unknown_keys_uncited_entries_and_stale_lists(tmp_path, entries):
    def chapter(name, text):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(text)]
        nbformat.write(nb, tmp_path / name)
        return tmp_path / name
    good = chapter("01_a.ipynb", "{cite:t}`zhao2017energy`\n\n" + bib.reference_paragraph(["zhao2017energy"], entries))
    stale = chapter("02_b.ipynb", "{cite:t}`qi2017loss`\n\n**References.** something else.")
    unknown = chapter("03_c.ipynb", "{cite:p}`nobody2020`\n\n**References.** -")
    found = bib.problems([good, stale, unknown], entries)
    assert any("02_b.ipynb: its reference list is not the one" in f for f in found)
    assert any("03_c.ipynb: cites 'nobody2020'" in f for f in found)
    assert "references.bib: 'arjovsky2017towards' is cited by no chapter" in found
    assert not any("01_a" in f for f in found)


def test_bad_bibliographies_say_what_to_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="references.bib"):
        bib.load(tmp_path / "none.bib")
    (tmp_path / "bad.bib").write_text("@article{x2020, author = {A. B}, title = {T}}")
    with pytest.raises(ValueError, match="'x2020' lacks year"):
        bib.load(tmp_path / "bad.bib")


def test_the_index_reads_a_question_that_cites_as_words():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 09 · X\n\n**Question.** Does EBGAN {cite:p}`zhao2017energy` need a *margin*?")]
    assert build.question_of(nb) == "Does EBGAN (Zhao et al. 2017) need a margin?"


def test_the_site_links_each_citation_to_its_entry_and_a_missing_entry_is_a_dangling_link(tmp_path):
    from conftest import build_site

    key = next(iter(bib.load()))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# 01 · A\n\nAs {{cite:t}}`{key}` showed.")]
    code, out = build_site(tmp_path, {"01_a": nb})
    assert code == 0
    body = (out / "01_a.html").read_text()
    assert f'href="references.html#{key}"' in body and "{cite:" not in body
    page = (out / "references.html").read_text()
    assert f'id="{key}"' in page and 'href="01_a.html"' in page and (out / "references.bib").exists()
    cites = lambda: [t for _, t in build.dangling_links(out) if t.startswith("references.")]  # noqa: E731
    assert cites() == []
    (out / "references.html").write_text(page.replace(f'id="{key}"', 'id="elsewhere"'))
    assert cites() == [f"references.html#{key}"]
    (out / "references.html").unlink()
    assert "references.html" in cites()
