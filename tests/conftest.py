import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("COURSE_PROFILE", "test")

import torch  # noqa: E402

torch.set_num_threads(1)  # small models: one thread is as fast, and robust on a busy machine
