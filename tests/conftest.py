import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("COURSE_PROFILE", "test")

import torch  # noqa: E402

torch.set_num_threads(1)  # small models: one thread is as fast, and robust on a busy machine


def build_site(root, notebooks: dict):
    """The course's site built from ``notebooks`` ({name: notebook}, as the build leaves them executed) by
    ``course_lib.build`` (render only: Sphinx); returns (the build's exit status, the site's folder)."""
    from pathlib import Path

    import nbformat

    from course_lib import build

    root = Path(root)
    (root / "notebooks").mkdir(parents=True, exist_ok=True)
    paths = []
    for name, nb in notebooks.items():
        nbformat.write(nb, root / "notebooks" / f"{name}.ipynb")
        paths.append(str(root / "notebooks" / f"{name}.ipynb"))
    out = root / "html"
    code = build.main(paths + ["--out", str(out), "--executed", str(root / "notebooks"), "--render-only"])
    return code, out
