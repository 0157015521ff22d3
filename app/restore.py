"""Open Saved Image: a PNG the studio saved, put back into the window as it was saved (one function per kind)."""
from __future__ import annotations

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
    win.state.set_latent(spec.latent)
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
    win.state.set_latent(spec.start)
    win.docks[Pane.INTERPOLATION].raise_()
    end = spec.end
    if end.seed is None or end.edit is not None:  # the pane ends at a seed; a strip from the CLI may end anywhere
        return f"the strip's first face ({win.state.describe()}); its end is {end.label()}, not a seed"
    win.panes[Pane.INTERPOLATION].set_end(end.seed, spec.steps)
    return f"the interpolation to seed {end.seed} in {spec.steps} steps, {win.state.describe()}"


def _seed_grid(win, spec: RenderSeedGrid) -> str:
    win.panes[Pane.SEEDS].show_seeds(spec.seeds, spec.c)
    win.docks[Pane.SEEDS].raise_()
    return f"{len(spec.seeds)} seeds in the Seeds pane at ψ {spec.settings.psi:g}"


RESTORE = {RenderImage: _face, RenderVariation: _variation, RenderTruncationStrip: _strip, RenderLayer: _layers,
           RenderMixGrid: _mix, RenderInterpolation: _interpolation, RenderSeedGrid: _seed_grid}
