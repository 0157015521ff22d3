"""What the user is looking at: the current latent, truncation, noise and mixing (GUI thread only)."""
from __future__ import annotations

import dataclasses

from PySide6.QtCore import QObject, Signal

from ..engine.contract.messages import ModelInfo
from ..engine.contract.latents import DEFAULT_PSI, Latent, NoiseSpec, RenderSettings


class ExploreState(QObject):
    """Holds the exploration settings; panes change it, the window renders on `changed`."""

    changed = Signal()
    model_changed = Signal(object)   # ModelInfo

    def __init__(self) -> None:
        super().__init__()
        self.latent = Latent(seed=0)
        self.settings = RenderSettings(psi=DEFAULT_PSI, cutoff=None)
        self.mix_with: Latent | None = None
        self.mix_layers: tuple[int, ...] = ()
        self.model: ModelInfo | None = None
        self.direction = None            # the Directions pane's current direction (contract.directions.Direction), for videos
        self.travel_path: list[tuple[float, float]] = []   # every point of seed space travelled to in this window
        self.frame = None                # (latent, image [H, W, 3]) of the newest frame the viewer shows
        self.travel_space = "z"          # how a travel blends the seeds around a point: slerp in Z or lerp in W

    def set_model(self, info: ModelInfo) -> None:
        """A (new) model is in use: clamp settings that depend on its layers."""
        self.model = info
        if self.settings.cutoff is not None and self.settings.cutoff > info.num_ws:
            self.settings = dataclasses.replace(self.settings, cutoff=None)
        self.mix_layers = tuple(i for i in self.mix_layers if i < info.num_ws)
        self.model_changed.emit(info)
        self.changed.emit()

    def set_latent(self, latent: Latent, mix_with: Latent | None = None, mix_layers: tuple[int, ...] = ()) -> None:
        """Show `latent` (optionally with layers from `mix_with`)."""
        self.latent, self.mix_with, self.mix_layers = latent, mix_with, tuple(mix_layers)
        self.changed.emit()

    def set_settings(self, **changes) -> None:
        """Change ψ, cutoff or noise."""
        new = dataclasses.replace(self.settings, **changes)
        if new != self.settings:
            self.settings = new
            self.changed.emit()

    def set_noise(self, noise: NoiseSpec) -> None:
        """Replace the per-resolution noise choices."""
        self.set_settings(noise=noise)

    def seed(self) -> int | None:
        """The current seed, if the latent is a seed."""
        return self.latent.seed

    def describe(self) -> str:
        """Info line: seed, ψ, cutoff, noise, mixed layers."""
        s = self.settings
        parts = [self.latent.label(), f"ψ {s.psi:.2f}", f"cutoff {'all' if s.cutoff is None else s.cutoff}",
                 f"noise {s.noise.describe()}"]
        if self.mix_with is not None and self.mix_layers:
            parts.append(f"layers {','.join(map(str, self.mix_layers))} from {self.mix_with.label()}")
        return " · ".join(parts)
