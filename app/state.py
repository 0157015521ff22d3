"""What the user is looking at: the current latent, truncation, noise and mixing (GUI thread only)."""
from __future__ import annotations

import dataclasses

from PySide6.QtCore import QObject, Signal

from ..engine.contract.messages import ModelInfo
from ..engine.contract.latents import DEFAULT_PSI, Latent, NoiseSpec, RenderSettings

NOISE_MODES = (("Stored", "const"), ("Resampled", "random"), ("Off", "zero"))   # the window's words for the modes


def noise_words(spec: NoiseSpec) -> str:
    """The noise in the Noise pane's words: 'stored', or 'stored; 8² off; 16² stored ×0.5; 32² resampled'."""
    word = {mode: text.lower() for text, mode in NOISE_MODES}

    def one(n) -> str:
        return word[n.mode] + (f" ×{n.strength:g}" if n.strength != 1.0 else "")
    rest = [f"{r}² {one(n)}" for r, n in sorted(spec.per_res) if n != spec.default]
    return "; ".join([one(spec.default), *rest])


class ExploreState(QObject):
    """Holds the exploration settings; panes change it, the window renders on `changed`."""

    changed = Signal()
    model_changed = Signal(object)   # ModelInfo
    class_changed = Signal(object)   # the class seeds are shown in (int), or None for an unconditional model

    def __init__(self) -> None:
        super().__init__()
        self.latent = Latent(seed=0)
        self.settings = RenderSettings(psi=DEFAULT_PSI, cutoff=None)
        self.mix_with: Latent | None = None
        self.mix_layers: tuple[int, ...] = ()
        self.model: ModelInfo | None = None
        self.direction = None            # the Directions pane's current direction (contract.directions.Direction), for videos
        self.label_class: int | None = None   # the class a class-conditional model maps seeds with (Seeds pane)
        self.travel_path: list[tuple[float, float]] = []   # every point of seed space travelled to in this window
        self.frame = None                # (latent, image [H, W, 3]) of the newest frame the viewer shows
        self.travel_space = "z"          # how a travel blends the seeds around a point: slerp in Z or lerp in W

    def set_model(self, info: ModelInfo) -> None:
        """A (new) model is in use: clamp settings that depend on its layers, classes and input; another model
        drops the viewer's edit (a direction of one model moves another's face anywhere, or fails)."""
        other = self.model is None or (info.model_id, info.path, info.live) != \
            (self.model.model_id, self.model.path, self.model.live)
        self.model = info
        if other:
            self.direction = None
            self.latent = self.latent.unedited()
            self.mix_with = self.mix_with.unedited() if self.mix_with is not None else None
        if info.c_dim == 0:
            self.label_class = None
        elif self.label_class is None or self.label_class >= info.c_dim:
            self.label_class = 0
        if self.settings.cutoff is not None and self.settings.cutoff > info.num_ws:
            self.settings = dataclasses.replace(self.settings, cutoff=None)
        if not info.has_input_transform:  # only a model with a Fourier input can move it
            self.settings = dataclasses.replace(self.settings, translate=(0.0, 0.0), rotate=0.0)
        self.latent = self.fit_latent(self.latent)
        self.mix_with = self.fit_latent(self.mix_with)
        self.mix_layers = tuple(i for i in self.mix_layers if i < info.num_ws)
        self.model_changed.emit(info)
        self.changed.emit()

    def fit_latent(self, latent: Latent | None) -> Latent | None:
        """`latent` as the current model takes it: a seed keeps a class the model has, else gets the current one
        (a class-conditional model) or none (an unconditional one); an explicit w already holds its class."""
        if latent is None or latent.w is not None or self.model is None:  # seeds and positions in seed space
            return latent
        if self.model.c_dim == 0:
            c = None
        else:
            c = latent.c if latent.c is not None and latent.c < self.model.c_dim else self.label_class
        return latent if c == latent.c else dataclasses.replace(latent, c=c)

    def seed_latent(self, seed: int) -> Latent:
        """A seed in the current class (the Seeds pane's picker; none for an unconditional model)."""
        return Latent(seed=seed, c=self.label_class)

    def set_class(self, c: int) -> None:
        """Show seeds in class `c`: the thumbnails re-render, and the viewer's seed (if it shows one) follows."""
        if c == self.label_class:
            return
        self.label_class = c
        if self.latent.w is None:  # a seed or a position in seed space
            self.latent = dataclasses.replace(self.latent, c=c)
        self.class_changed.emit(c)
        self.changed.emit()

    def set_latent(self, latent: Latent, mix_with: Latent | None = None, mix_layers: tuple[int, ...] = ()) -> None:
        """Show `latent` (optionally with layers from `mix_with`)."""
        self.latent, self.mix_with = self.fit_latent(latent), self.fit_latent(mix_with)
        self.mix_layers = tuple(mix_layers)
        self.changed.emit()

    def set_settings(self, **changes) -> None:
        """Change ψ, cutoff, noise or the input's translate / rotate."""
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

    def describe_face(self) -> str:
        """The face in the viewer in words: 'seed 12', or 'seed 12 with layers 0,1 from seed 40'."""
        if self.mix_with is not None and self.mix_layers:
            return f"{self.latent.label()} with layers {','.join(map(str, self.mix_layers))} from {self.mix_with.label()}"
        return self.latent.label()

    def describe_settings(self) -> str:
        """The render settings in words: 'ψ 0.70 · cutoff all · noise const' (and the input transform)."""
        s = self.settings
        parts = [f"ψ {s.psi:.2f}", f"cutoff {'all' if s.cutoff is None else s.cutoff}"]
        if self.model is None or self.model.has_noise:
            parts.append(f"noise {noise_words(s.noise)}")
        if s.transformed:
            parts.append(f"moved {s.translate[0]:+.2f},{s.translate[1]:+.2f} rotated {s.rotate:+.0f}°")
        return " · ".join(parts)

    def describe(self) -> str:
        """Info line: seed, ψ, cutoff, noise, mixed layers."""
        parts = [self.latent.label(), self.describe_settings()]
        if self.mix_with is not None and self.mix_layers:
            parts.append(f"layers {','.join(map(str, self.mix_layers))} from {self.mix_with.label()}")
        return " · ".join(parts)
