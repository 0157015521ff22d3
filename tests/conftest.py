"""Test defaults: Qt without a screen; one torch thread (tiny models gain nothing from more, and
several processes each spinning two OpenMP threads on two cores slow each other down tenfold)."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("STYLEGAN_STUDIO_NO_REEXEC", "1")

import torch  # noqa: E402

torch.set_num_threads(1)
