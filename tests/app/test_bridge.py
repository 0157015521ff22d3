"""The bridge delivers engine events as Qt signals on the GUI thread (pytest-qt, offscreen)."""
import threading
from dataclasses import dataclass

import numpy as np
import pytest
from PySide6.QtCore import QThread

from stylegan_studio.app.bridge import EngineBridge
from stylegan_studio.engine.contract import messages as m
from stylegan_studio.engine.contract.latents import Latent
from stylegan_studio.engine.render.streams import renders


@pytest.fixture
def bridge(qtbot):
    b = EngineBridge(load_bundled=False, threads=1)
    b.start()
    with qtbot.waitSignal(b.model_info, timeout=10000):
        b.post(m.NewModel(resolution=16, channels=16, z_dim=16))
    yield b
    b.close()
    assert not b.engine_thread.is_alive()


def test_events_arrive_on_the_gui_thread_as_signals(qtbot, bridge):
    gui = QThread.currentThread()
    seen = []
    bridge.render_result.connect(lambda e: seen.append((QThread.currentThread() is gui,
                                                      threading.current_thread() is threading.main_thread(), e)))
    all_events = []
    bridge.event_received.connect(all_events.append)
    with qtbot.waitSignal(bridge.render_result, timeout=10000):
        bridge.submit(m.RenderImage("main", bridge.next_stamp(), Latent(seed=1)))
    on_gui, on_main, event = seen[0]
    assert on_gui and on_main and event.image.shape == (16, 16, 3)
    assert all_events == [event]


def test_errors_and_saves_have_their_signals(qtbot, bridge, tmp_path):
    with qtbot.waitSignal(bridge.error, timeout=10000) as err:
        bridge.post(m.LoadModel(str(tmp_path / "missing.safetensors")))
    assert "no such model file" in err.args[0].message
    with qtbot.waitSignal(bridge.saved, timeout=10000) as saved:
        bridge.post(m.SaveLatents(str(tmp_path / "l.npz"), (Latent(seed=1),)))
    assert saved.args[0].what == "latents"


def test_stamps_increase_and_old_results_are_not_delivered(qtbot, bridge):
    stamps = [bridge.next_stamp() for _ in range(3)]
    assert stamps == sorted(set(stamps))
    frames = []
    bridge.render_result.connect(frames.append)
    for i in range(20):
        bridge.submit(m.RenderImage("main", bridge.next_stamp(), Latent(seed=i)))
    last = bridge.next_stamp()
    with qtbot.waitSignal(bridge.render_result, timeout=10000, check_params_cb=lambda e: e.stamp == last):
        bridge.submit(m.RenderImage("main", last, Latent(seed=99)))
    assert frames[-1].stamp == last and len(frames) < 21
    assert [f.stamp for f in frames] == sorted(f.stamp for f in frames)
    # An out-of-date result (as if it were delayed) is dropped by the bridge.
    late = m.FrameReady("main", last - 5, 0.0, image=np.zeros((1, 1, 3), np.uint8))
    assert bridge.is_stale(late)


def test_grid_chunks_of_a_replaced_grid_are_dropped(qtbot, bridge):
    chunks = []
    bridge.results("grid").connect(chunks.append)
    first = bridge.next_stamp()
    bridge.submit(m.RenderSeedGrid("grid", first, seeds=tuple(range(400)), thumb=8))
    second = bridge.next_stamp()
    bridge.submit(m.RenderSeedGrid("grid", second, seeds=(1, 2, 3), thumb=8))
    with qtbot.waitSignal(bridge.results("grid"), timeout=10000, check_params_cb=lambda e: e.start == 2):
        pass
    assert {c.stamp for c in chunks} == {second}


def test_job_signals(qtbot, bridge):
    with qtbot.waitSignals([bridge.job_started, bridge.job_finished], timeout=10000):
        bridge.post(m.CancelJob(0))  # no job: an error, not a crash
        bridge._engine.start_job("noop", lambda job: iter(()))
    assert bridge.engine_thread.is_alive()


# A new render kind, declared here as a plug-in would: its request and event, and its registered renderer.
@dataclass(frozen=True)
class RenderWAvgNorm(m.RenderRequest):
    scale: float = 1.0


@dataclass(frozen=True, kw_only=True)
class WAvgNormReady(m.RenderResult):
    value: float


@renders(RenderWAvgNorm, streamed=False)
def _w_avg_norm(G, req):
    yield WAvgNormReady(req.target, req.stamp, 0.0, value=float(G.w_avg.norm()) * req.scale)


def test_a_new_render_kind_needs_only_its_request_event_and_renderer(qtbot, bridge):
    with qtbot.waitSignal(bridge.results("norm"), timeout=10000) as sig:
        bridge.submit(RenderWAvgNorm("norm", bridge.next_stamp(), scale=2.0))
    assert isinstance(sig.args[0], WAvgNormReady) and sig.args[0].value > 0
    assert bridge.is_stale(WAvgNormReady("norm", 0, 0.0, value=1.0))   # staleness comes from the base class
