"""Test defaults: Qt without a screen; one torch thread (tiny models gain nothing from more, and
several processes each spinning two OpenMP threads on two cores slow each other down tenfold)."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("STYLEGAN_STUDIO_NO_REEXEC", "1")

import torch  # noqa: E402

torch.set_num_threads(1)

import pytest  # noqa: E402

from helpers import Recorder  # noqa: E402
from stylegan_studio.engine.contract import messages as m  # noqa: E402
from stylegan_studio.engine.thread.engine import Engine  # noqa: E402


@pytest.fixture
def eng():
    """A running engine on a fresh 16² model; its events collect in `eng.rec` (a helpers.Recorder)."""
    rec = Recorder()
    engine = Engine(rec, threads=1)
    engine.rec = rec
    engine.start()
    engine.post(m.NewModel(resolution=16, channels=16, z_dim=16, seed=0))
    rec.wait(m.ModelInfo)
    yield engine
    assert engine.close(), "engine thread did not stop"
