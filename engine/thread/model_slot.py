"""The model the engine renders with: a loaded or new G, or a training run's live G_ema copy."""
from __future__ import annotations

import copy
import os
import time
from pathlib import Path

import torch

from ..contract.errors import UserError
from ..contract.messages import ModelInfo, NewModel
from ..contract.modelconfig import ModelConfig
from ..files.imported import open_model
from ..files.modelfile import ModelMeta, save_model
from ..nets.api import GeneratorNet, feature_layers
from ..nets.registry import can_fine_tune, new_generator


def _grown_fields(grown: tuple[int, float] | None) -> dict:
    """ModelInfo's growing phase of a loaded snapshot (a live view's moves on every refresh: the Training pane
    says it)."""
    return {} if grown is None else {"grown_res": grown[0], "grown_alpha": grown[1]}


class ModelSlot:
    """Holds G with its provenance; while exploring a training run, renders use a copy of its G_ema."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.G: GeneratorNet | None = None
        self.meta = ModelMeta()
        self.path = ""
        self.live_G: GeneratorNet | None = None
        self.live_kimg = 0.0
        self.live_source = None       # the TrainingJob whose G_ema is explored
        self.refresh_s = 5.0
        self.refreshed_at = 0.0

    # ---------------------------------------------------------------- what renders use
    @property
    def render_G(self) -> GeneratorNet:
        """The generator renders use now (raises a UserError when there is none)."""
        G = self.live_G if self.live_G is not None else self.G
        if G is None:
            raise UserError("no model is loaded: open a model file or create a new model")
        return G

    @property
    def live(self) -> bool:
        """True while renders use a training run's G_ema."""
        return self.live_G is not None

    def info(self) -> ModelInfo:
        """ModelInfo of the generator renders use."""
        G = self.render_G
        name = f"training {self.live_source.run_dir}" if self.live else (self.meta.name or "untitled")
        return ModelInfo(name=name, path="" if self.live else self.path, model_id="" if self.live else self.meta.model_id,
                         resolution=G.img_resolution, num_ws=G.num_ws, z_dim=G.z_dim, w_dim=G.w_dim,
                         layer_resolutions=G.ws_resolutions, layer_labels=G.ws_labels,
                         noise_resolutions=G.noise_resolutions, device=self.device.type,
                         kimg=self.live_kimg if self.live else self.meta.kimg, live=self.live,
                         feature_layers=feature_layers(G),
                         arch=G.arch, c_dim=G.c_dim, has_input_transform=G.has_input_transform,
                         can_train=can_fine_tune(G),
                         source_note="" if self.live else self.meta.imported.get("source_note") or "",
                         **_grown_fields(None if self.live else getattr(G, "grown", None)))

    # ---------------------------------------------------------------- model files
    def load(self, path: str) -> str:
        """Open a model file or official .pkl (converted once, cached); returns a notice for the user.

        On failure the current model stays (ModelFileError or PickleRefused propagates).
        """
        if not path:
            raise UserError("no model file given")
        G, meta, notice = open_model(path, self.device)
        self.G, self.meta, self.path = G, meta, os.path.abspath(path)   # Recent Models and records: from anywhere
        self.stop_live()
        return notice

    def new(self, cmd: NewModel) -> None:
        """A freshly initialised small model, w_avg centred on its mapping's mean."""
        G = new_generator(ModelConfig.small(cmd.resolution, cmd.channels, cmd.z_dim), cmd.seed)
        self.G, self.path = G.to(self.device), ""
        self.meta = ModelMeta(name="new model", source=f"new (seed {cmd.seed})", seed=cmd.seed)
        self.stop_live()

    def save(self, path: str) -> None:
        """Write the generator renders use; a saved live G_ema becomes the current model."""
        if not path:
            raise UserError("no file name given")
        if self.live:
            meta = ModelMeta(name="", source=f"training run {self.live_source.run_dir}", kimg=round(self.live_kimg, 3))
            self.meta = save_model(self.live_G, path, meta)
            self.G, self.path = self.live_G, os.path.abspath(path)
            self.stop_live()
            return
        self.meta = save_model(self.render_G, path, ModelMeta(**{**self.meta.__dict__, "model_id": "", "name": ""}))
        self.path = os.path.abspath(path)

    # ---------------------------------------------------------------- live G_ema of a training run
    def start_live(self, source, refresh_s: float) -> bool:
        """Explore `source`'s G_ema; True when a copy was taken now (False: the run is still starting)."""
        self.live_source, self.refresh_s = source, max(0.2, float(refresh_s))
        return self.refresh(force=True)

    def stop_live(self) -> None:
        """Render with the model again."""
        self.live_G, self.live_source = None, None

    def refresh(self, force: bool = False) -> bool:
        """Copy the run's G_ema when `refresh_s` has passed and it trained since; True when copied."""
        src = self.live_source
        if src is None or src.run is None:
            return False
        due = time.monotonic() - self.refreshed_at >= self.refresh_s
        if not force and self.live_G is not None and (not due or src.run.kimg == self.live_kimg):
            return False
        # A copy, so a slider drag shows one consistent model between refreshes.
        self.live_G = copy.deepcopy(src.run.G_ema).to(self.device).eval().requires_grad_(False)
        self.live_G.grown = src.run.growth()  # while growing, shown as training sees it (as its fakes grid)
        self.live_kimg, self.refreshed_at = src.run.kimg, time.monotonic()
        return True

    def run_ended(self, source, snapshot: str = "") -> bool:
        """The explored run ended: keep its last G_ema as the model; True when the model changed."""
        if self.live_source is not source:
            return False
        if source.run is not None:
            self.refresh(force=True)
            self.G = self.live_G
            # the title bar names it: the run folder's name and where it ended, not a long path
            self.meta = ModelMeta(name=f"{Path(source.run_dir).name} at {self.live_kimg:.2f} kimg",
                                  source=f"training run {source.run_dir}", kimg=round(self.live_kimg, 3))
            self.path = snapshot
        self.stop_live()
        return self.G is not None
