"""Open Saved Image: a PNG the studio saved, put back into the window as it was saved (one function per kind)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject

from ..engine.contract.messages import ReadImageRecord
from ..engine.contract.latents import RenderSettings
from ..engine.contract.requests import (RenderImage, RenderInterpolation, RenderLayer, RenderMixGrid, RenderRequest,
                                        RenderSeedGrid, RenderTruncationStrip, RenderVariation)
from .panes.registry import Pane


def can_restore(spec: RenderRequest) -> bool:
    """Whether the window can show what `spec` rendered (a paper figure, a directions grid, a blend it cannot)."""
    return type(spec) in RESTORE


def restore(win, spec: RenderRequest) -> str:
    """Put `spec` back into the window `win` (settings first, then what it showed); what came back, in words."""
    _settings(win, spec.settings)
    return RESTORE[type(spec)](win, spec)


def _settings(win, s: RenderSettings) -> None:
    """ψ, cutoff, noise and the input transform exactly as given; the panes' widgets show them."""
    win.panes[Pane.TRUNCATION].show_settings(s)
    win.panes[Pane.NOISE].apply_spec(s.noise)
    win.state.set_settings(psi=s.psi, cutoff=s.cutoff, noise=s.noise, translate=s.translate, rotate=s.rotate)


def show_view(win, view) -> None:
    """Show a view (history.View: the face, its mixing and settings) in the viewer, the panes' widgets following."""
    _settings(win, view.settings)
    win.state.set_latent(view.latent, view.mix_with, view.mix_layers)


def _face(win, spec: RenderImage) -> str:
    # the Seeds pane draws in the face's class too: Next Seed after a class-2 face is a class-2 face
    win.panes[Pane.SEEDS].choose_class(spec.latent.c if spec.latent.c is not None else
                                       spec.mix_with.c if spec.mix_with is not None else None)
    win.state.set_latent(spec.latent, spec.mix_with, spec.mix_layers)
    return f"the face, {win.state.describe()}"


def _variation(win, spec: RenderVariation) -> str:
    pane = win.panes[Pane.NOISE]
    win.state.set_latent(spec.latent, spec.mix_with, spec.mix_layers)
    pane.draws.setValue(spec.draws)
    win.docks[Pane.NOISE].raise_()
    pane.request_variation()
    return f"the face and its noise variation over {spec.draws} draws, {win.state.describe()}"


def _strip(win, spec: RenderTruncationStrip) -> str:
    win.state.set_latent(spec.latent, spec.mix_with, spec.mix_layers)
    win.docks[Pane.TRUNCATION].raise_()
    return f"the face of the ψ strip, {win.state.describe()}"


def _layers(win, spec: RenderLayer) -> str:
    if spec.latents:
        win.state.set_latent(spec.latents[0], spec.mix_with, spec.mix_layers)
    win.docks[Pane.LAYERS].raise_()
    if not win.panes[Pane.LAYERS].show_view(spec.layer, spec.mode, spec.channels):
        return f"the face ({win.state.describe()}); this model has no layer {spec.layer}"
    return f"the view of {spec.layer} and its face, {win.state.describe()}"


def _mix(win, spec: RenderMixGrid) -> str:
    win.panes[Pane.MIXING].set_sources(spec.rows, spec.cols, spec.layers)
    win.docks[Pane.MIXING].raise_()
    layers = ",".join(map(str, spec.layers)) or "none"
    return f"the mixing grid, {len(spec.rows)} × {len(spec.cols)} faces mixed at layers {layers}"


def _interpolation(win, spec: RenderInterpolation) -> str:
    win.state.set_latent(spec.start, spec.mix_with, spec.mix_layers)
    win.docks[Pane.INTERPOLATION].raise_()
    win.panes[Pane.INTERPOLATION].set_end(spec.end, spec.steps)
    return f"the interpolation to {spec.end.label()} in {spec.steps} steps, {win.state.describe()}"


def _seed_grid(win, spec: RenderSeedGrid) -> str:
    win.panes[Pane.SEEDS].show_seeds(spec.seeds, spec.c)
    win.docks[Pane.SEEDS].raise_()
    return f"{len(spec.seeds)} seeds in the Seeds pane at ψ {spec.settings.psi:g}"


RESTORE = {RenderImage: _face, RenderVariation: _variation, RenderTruncationStrip: _strip, RenderLayer: _layers,
           RenderMixGrid: _mix, RenderInterpolation: _interpolation, RenderSeedGrid: _seed_grid}


class SavedImages(QObject):
    """Opens saved images in the window `win`: asks the engine what a file records, opens the model that made
    it if another one is open, restores it, or says in one line why it cannot (and projects an image the studio
    did not save)."""

    def __init__(self, win) -> None:
        super().__init__(win)
        self.win = win
        self.request = 0       # the newest file asked about; answers to older ones are not shown
        self.pending = None    # an ImageRecord waiting for its model to open
        win.bridge.image_record.connect(self.on_record)

    def open(self, path: str) -> None:
        """Ask what `path` records (the answer comes as an ImageRecord)."""
        self.request += 1
        self.pending = None
        self._say(f"Opening {Path(path).name}…", 5000)
        self.win.bridge.post(ReadImageRecord(str(path), self.request))

    def on_record(self, ev) -> None:
        """What an opened image records: restore it, open its model first, project it, or say why not."""
        if ev.request != self.request:
            return
        name, model = Path(ev.path).name, self.win.state.model
        if ev.spec is None:
            self._say(f"{name} was not saved by the studio: finding its closest face")
            self.win.project_image(ev.path)
        elif not can_restore(ev.spec):
            self._say(f"{name} is a {ev.spec.kind} the window cannot show as it was; "
                      f"`stylegan-studio generate --from-png {name}` renders it again")
        elif ev.training_kimg is not None or not ev.model_id:
            made = f"a training run's G_ema at {ev.training_kimg:g} kimg" if ev.training_kimg is not None else \
                "a model that was never saved"
            self._say(f"{name} was made with {made}: that model is not in a file, so the image cannot come back "
                      "as it was")
        elif model is not None and not model.live and model.model_id == ev.model_id:
            self._restore(ev)
        elif ev.model_path and Path(ev.model_path).is_file():
            self.pending = ev
            self.win.open_model(ev.model_path)
        else:
            self._say(f"{name} was made with {ev.model_name or 'another model'} ({ev.model_path or 'no file recorded'}"
                      "), which is not open and is not at that path: open it first")

    def on_model(self, info) -> None:
        """A model is open: the one a saved image waits for, if its path is the recorded one."""
        if self.pending is not None and not info.live and Path(info.path) == Path(self.pending.model_path):
            self._restore(self.pending)

    def on_model_failed(self) -> None:
        """The model a saved image waited for did not open (the window says why)."""
        self.pending = None

    def _restore(self, ev) -> None:
        self.pending = None
        name, model = Path(ev.path).name, self.win.state.model
        if model is None or model.model_id != ev.model_id:
            self._say(f"{ev.model_path} no longer holds the model {name} was made with: nothing restored")
            return
        self._say(f"Opened {name} as saved: {restore(self.win, ev.spec)}")

    def _say(self, text: str, ms: int = 15000) -> None:
        self.win.statusBar().showMessage(text, ms)
