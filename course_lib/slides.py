"""Slides for instructors: every notebook presents as a deck, live in JupyterLab (RISE) or as a static
reveal.js page rendered offline.

Each cell carries ``metadata.slideshow.slide_type`` (``tag``, run by ``make slides-tag`` on the .py
twins): the title, every ``## section`` and every ``### Exercise`` open a slide; other text and code open a sub-slide (a
figure needs the room) or, when short, appear as a fragment on the current one; cells that only
assert the chapter's claims are skipped (they print nothing).

    python -m course_lib.slides --out build/slides build/executed/*.ipynb   # decks from executed notebooks
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

import nbformat

REVEAL_THEME = "white"


def slide_type(cell, first: bool) -> str:
    """The slide type of one cell (``first``: the notebook's first cell)."""
    src = cell.source.strip()
    if first:
        return "slide"
    if cell.cell_type == "markdown":
        if src.startswith("**Speaker notes.**"):
            return "notes"  # the presenter's view of the deck (reveal.js speaker notes), not a slide
        if src.startswith("## ") or src.startswith("# ") or src.startswith("### Exercise"):
            return "slide"  # a section, or an exercise: a slide of its own, where the lecture can pause
        return "fragment" if len(src.splitlines()) <= 4 else "subslide"
    lines = [l for l in src.splitlines() if l.strip() and not l.strip().startswith("#")]
    if lines and lines[0].startswith("if not is_test()") and all(
            l.startswith(("if ", "    assert", "        assert", "    for ", "    if ")) for l in lines):
        return "skip"  # a block of real-profile asserts: it prints nothing worth a slide
    return "subslide"


def tag(nb) -> int:
    """Set every cell's slide type; returns how many changed."""
    changed = 0
    for i, cell in enumerate(nb.cells):
        want = slide_type(cell, i == 0)
        if cell.metadata.get("slideshow", {}).get("slide_type") != want:
            cell.metadata["slideshow"] = {"slide_type": want}
            changed += 1
    return changed


def tag_twins(paths) -> None:
    """Tag the jupytext .py twins in place (then `make sync` rebuilds the .ipynb)."""
    import jupytext

    for path in paths:
        nb = jupytext.read(path)
        if tag(nb):
            jupytext.write(nb, path, fmt="py:percent")
            print(f"tagged {path}")


def reveal_root() -> Path:
    """reveal.js from the installed ``pyreveal`` package (which bundles reveal.js's dist)."""
    try:
        import pyreveal
    except ImportError as err:
        raise ImportError("the offline decks need reveal.js from the pyreveal package: `pip install -e '.[dev]'` "
                          "(or `pip install pyreveal`)") from err
    root = Path(pyreveal.__file__).parent / "revealjs"
    if not (root / "dist" / "reveal.js").exists():
        raise FileNotFoundError(f"reveal.js is not where pyreveal keeps it ({root / 'dist' / 'reveal.js'})")
    return root


_INIT = """<script src="reveal/dist/reveal.js"></script>
<script src="reveal/dist/plugin/notes.js"></script>
<script>
Reveal.initialize({controls: true, progress: true, history: true, slideNumber: "c/t", transition: "fade",
                   width: 1280, height: 800, plugins: [RevealNotes]});
Reveal.on("slidechanged", function (e) {
  if (window.MathJax && MathJax.Hub) { MathJax.Hub.Queue(["Rerender", MathJax.Hub, e.currentSlide]); }
});
</script>"""


def render_deck(nb) -> str:
    """One executed notebook as a reveal.js deck that loads reveal.js and MathJax from folders beside it."""
    from nbconvert import SlidesExporter

    from .build import MATHJAX_CONFIG, for_static_page, offline
    from .site import MATHJAX_FONTS

    exporter = SlidesExporter(reveal_url_prefix="reveal", reveal_theme=REVEAL_THEME, require_js_url="",
                              mathjax_url=f"mathjax/MathJax.js?config={MATHJAX_CONFIG}")
    body, _ = exporter.from_notebook_node(for_static_page(nb, cite_link=None))  # citations as words
    body, n = re.subn(r"<script>\s*require\(.*?</script>", lambda _: _INIT, body, count=1, flags=re.S)
    if n != 1:
        raise RuntimeError("nbconvert's reveal template changed: the deck's start-up script was not found")
    body, n = re.subn(r"MathJax\.Hub\.Config\(\{", lambda m: m[0] + f'\n"HTML-CSS": {json.dumps(MATHJAX_FONTS)},', body, count=1)
    if n != 1:
        raise RuntimeError("nbconvert's reveal template changed: its MathJax configuration was not found")
    body = offline(body)   # require.js and jQuery from CDNs: the deck does without
    return _CHAPTER_LINK.sub(lambda m: f'href="{m[1]}.slides.html"', body)


_CHAPTER_LINK = re.compile(r'href="(\d\d_[\w-]+)\.ipynb(?:#[^"]*)?"')   # "next: chapter 08" leads to the next deck


def write_decks(notebooks, out: Path) -> list:
    """A deck for each executed notebook in ``out`` (NN_name.slides.html, reveal.js and MathJax beside them);
    returns the problems found: [(deck, dangling link or network resource)]."""
    from .build import copy_mathjax, dangling_links, network_references

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    copy_mathjax(out)
    if not (out / "reveal" / "dist" / "reveal.js").exists():
        shutil.copytree(reveal_root() / "dist", out / "reveal" / "dist", dirs_exist_ok=True)
    for path in sorted(Path(p) for p in notebooks):
        target = out / (path.stem + ".slides.html")
        target.write_text(render_deck(nbformat.read(path, as_version=4)))
    return dangling_links(out) + network_references(out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build/slides"))
    parser.add_argument("--tag", action="store_true", help="tag the given .py twins with slide types instead")
    args = parser.parse_args(argv)
    if args.tag:
        tag_twins(args.notebooks)
        return 0
    if not args.notebooks:
        parser.error("give executed notebooks (make course writes them to build/executed/)")
    problems = write_decks(args.notebooks, args.out)
    for path in sorted(args.notebooks):
        print(f"deck: {args.out / (path.stem + '.slides.html')}")
    for p in problems:
        print(f"{p[0]}: {p[1]}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
