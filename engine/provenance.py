"""Provenance records written into every exported image, enough to regenerate it."""
from __future__ import annotations

from pathlib import Path

from .modelfile import ModelMeta
from .specs import NoiseSpec, RenderSettings

VERSION = 1


def provenance(meta: ModelMeta, model_path: str | Path, settings: RenderSettings, kind: str, **extra) -> dict:
    """A JSON-ready record: model id and file, ψ, cutoff, noise, and what was rendered."""
    record = {"app": "stylegan-studio", "provenance_version": VERSION, "kind": kind,
              "model_id": meta.model_id, "model_name": meta.name, "model_path": str(model_path),
              "psi": settings.psi, "cutoff": settings.cutoff, "noise": settings.noise.describe()}
    record.update(extra)
    return record


def settings_from(record: dict) -> RenderSettings:
    """The RenderSettings a provenance record describes."""
    return RenderSettings(psi=float(record["psi"]), cutoff=record.get("cutoff"),
                          noise=NoiseSpec.parse(record["noise"]))
