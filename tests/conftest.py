import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("COURSE_PROFILE", "test")

import torch  # noqa: E402

torch.set_num_threads(2)
