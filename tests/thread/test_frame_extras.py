"""A frame's Layers view gives way to a newer frame (latest wins), but at most EXTRAS_EVERY_S at a time."""
from helpers import Recorder
from stylegan_studio.engine.contract import messages as m
from stylegan_studio.engine.contract.latents import Latent, RenderSettings
from stylegan_studio.engine.contract.requests import RenderImage, RenderLayer
from stylegan_studio.engine.thread import engine as engine_module
from stylegan_studio.engine.thread.commands import HANDLERS
from stylegan_studio.engine.thread.engine import Engine


def frame(stamp):
    return RenderImage("viewer", stamp, Latent(seed=stamp), RenderSettings(),
                       with_layer=RenderLayer("layers", stamp, layer="8x8/conv1"))


def test_the_view_is_dropped_while_a_newer_frame_waits_but_not_for_long(monkeypatch):
    rec = Recorder()
    eng = Engine(rec, threads=1)          # not started: the test drives _render itself, on this thread
    HANDLERS[m.NewModel](eng, m.NewModel(resolution=16, channels=16, z_dim=16, seed=0))
    kinds = lambda: [type(e).__name__ for e in rec.events if isinstance(e, m.RenderResult)]  # noqa: E731
    eng._render(frame(1))                 # nothing newer waits: frame and view
    assert kinds() == ["FrameReady", "LayerReady"]
    monkeypatch.setattr(engine_module, "EXTRAS_EVERY_S", 60.0)  # (a slow machine must not make the view due)
    eng.submit(frame(3))                  # a newer frame waits: this one's view is dropped
    eng._render(frame(2))
    assert kinds()[2:] == ["FrameReady"]
    monkeypatch.setattr(engine_module, "EXTRAS_EVERY_S", 0.0)  # the view has waited long enough: it comes
    eng._render(frame(2))
    assert kinds()[3:] == ["FrameReady", "LayerReady"]
