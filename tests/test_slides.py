"""Slides: every cell's slide type follows the rules, and a deck renders offline with reveal.js from the installed package."""
import re

import nbformat

from course_lib import build, slides


def _nb():
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = [nbformat.v4.new_markdown_cell("# 05 · EBGAN\n\n**Question.** Is $E(x)$ a score?"),
                nbformat.v4.new_code_cell("S, device = setup_notebook(...)"),
                nbformat.v4.new_markdown_cell("## 1. Section\n\nText."),
                nbformat.v4.new_markdown_cell("One short remark."),
                nbformat.v4.new_markdown_cell("A\nlong\nexplanation\nof\nfive lines"),
                nbformat.v4.new_code_cell("if not is_test():\n    assert x > 1  # the claim\n    assert y"),
                nbformat.v4.new_markdown_cell("## 2. Next")]
    return nb


def test_slide_types_follow_the_rules():
    nb = _nb()
    assert slides.tag(nb) == len(nb.cells)
    assert [c.metadata.slideshow["slide_type"] for c in nb.cells] == \
        ["slide", "subslide", "slide", "fragment", "subslide", "skip", "slide"]
    assert slides.tag(nb) == 0   # tagging again changes nothing


def test_a_deck_renders_offline_with_the_bundled_reveal(tmp_path):
    nb = _nb()
    slides.tag(nb)
    deck = slides.render_deck(nb)
    assert 'src="reveal/dist/reveal.js"' in deck and "Reveal.initialize" in deck and "require(" not in deck
    assert len(re.findall(r"<section", deck)) >= 3
    (tmp_path / "05.slides.html").write_text(deck)
    assert build.network_references(tmp_path) == []
    assert (slides.reveal_root() / "dist" / "reveal.js").exists()
    nbformat.write(nb, tmp_path / "05_x.ipynb")
    assert slides.main([str(tmp_path / "05_x.ipynb"), "--out", str(tmp_path / "out")]) == 0   # no dangling link, no network
    assert (tmp_path / "out" / "reveal" / "dist" / "reveal.css").exists()


def test_an_exercise_is_a_slide_of_its_own_in_every_chapter():
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    cell = nbformat.v4.new_markdown_cell("### Exercise 7.1 (implement): EBGAN's loss\n\nWrite the loss.")
    assert slides.slide_type(cell, first=False) == "slide"
    for path in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for c in nb.cells:
            if c.cell_type == "markdown" and c.source.startswith("### Exercise"):
                assert c.metadata.slideshow["slide_type"] == "slide", f"{path.name}: {c.source.splitlines()[0]}"


def test_every_chapter_has_speaker_notes_and_the_deck_puts_them_in_the_speaker_view():
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    for path in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        notes = [c for c in nb.cells if c.metadata.get("slideshow", {}).get("slide_type") == "notes"]
        assert notes and all(c.source.startswith("**Speaker notes.**") for c in notes), path.name
    nb = _nb()
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("**Speaker notes.** Ask the room where the wrong answers come from."))
    slides.tag(nb)
    assert nb.cells[1].metadata.slideshow["slide_type"] == "notes"
    deck = slides.render_deck(nb)
    aside = re.search(r'<aside class="notes">(.*?)</aside>', deck, re.S)
    assert aside and "wrong answers come from" in aside.group(1)   # reveal.js shows it in the speaker view (key S), not on a slide
