"""The one provenance format of exported stills: written from a spec, read back into the same spec.

A record is flat JSON: app, version, kind, the model (id, name, file), ψ/cutoff/noise of the spec's
settings, and the spec's other fields under their own names (a latent as {"seed": n} or {"w": [...]}).
stdlib + numpy only.
"""
from __future__ import annotations

from dataclasses import fields

import numpy as np

from ..errors import UserError
from ..render.specs import Edit, Latent, NoiseSpec, RenderSettings, SpecError
from ..render.stillspec import SPECS, StillSpec

VERSION = 2
APP = "stylegan-studio"


def model_record(model_id: str, name: str, path, **extra) -> dict:
    """The model part of a record (extra: e.g. training_kimg of a live G_ema)."""
    return {"model_id": model_id, "model_name": name, "model_path": str(path), **extra}


def record(spec: StillSpec, model: dict) -> dict:
    """A JSON-ready record of `spec` rendered by `model` (see model_record)."""
    out = {"app": APP, "provenance_version": VERSION, "kind": spec.kind, **model}
    for f in fields(spec):
        value = getattr(spec, f.name)
        if isinstance(value, RenderSettings):
            out.update(psi=value.psi, cutoff=value.cutoff, noise=value.noise.describe())
        else:
            out[f.name] = _encode(value)
    return out


def _encode(value):
    if isinstance(value, Latent):
        w = np.asarray(value.w, np.float32) if value.w is not None else None
        out = {"seed": value.seed} if w is None else {"w": (w if value.per_layer else w.ravel()).tolist()}
        if value.edit is not None:
            e = value.edit
            out["edit"] = {"offset": list(e.offset), "layers": list(e.layers), "label": e.label}
        return out
    if isinstance(value, (tuple, list)):
        return [_encode(v) for v in value]
    return value


def spec_from(rec: dict) -> StillSpec:
    """The spec a record describes (version 1 records of images, grids and mixes too); UserError if unreadable."""
    if rec.get("provenance_version", 1) < 2:
        rec = _upgrade(rec)
    cls = SPECS.get(rec.get("kind"))
    if cls is None:
        raise UserError(f"the provenance describes a {rec.get('kind')!r}, which cannot be regenerated")
    try:
        args = {f.name: settings_from(rec) if f.name == "settings" else _decode(rec[f.name])
                for f in fields(cls) if f.name == "settings" or f.name in rec}
        return cls(**args)
    except (KeyError, TypeError, ValueError, SpecError) as exc:
        raise UserError(f"the provenance is damaged: {exc}") from None


def _decode(value):
    if isinstance(value, dict) and ("seed" in value or "w" in value):
        e = value.get("edit")
        edit = Edit(tuple(map(float, e["offset"])), tuple(map(int, e["layers"])), str(e.get("label", ""))) if e else None
        if "seed" in value:
            return Latent(seed=int(value["seed"]), edit=edit)
        return Latent(w=np.asarray(value["w"], np.float32), edit=edit)
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    return value


def _upgrade(rec: dict) -> dict:
    """A version 1 record in version 2 terms (seeds lists of images, int sources of mixes, 'figure NAME')."""
    rec = dict(rec)
    kind = rec.get("kind", "")
    if kind == "image" and "latent" not in rec and rec.get("seeds"):
        rec["latent"] = {"seed": rec["seeds"][0]}
    if kind == "mix":
        rec.update({k: [{"seed": v} if isinstance(v, int) else v for v in rec.get(k, [])] for k in ("rows", "cols")})
    if kind.startswith("figure "):
        rec.update(kind="figure", name=kind.split(" ", 1)[1], seeds=rec.get("seeds") or [])
    return rec


def settings_from(rec: dict) -> RenderSettings:
    """The RenderSettings a record describes."""
    return RenderSettings(psi=float(rec["psi"]), cutoff=rec.get("cutoff"), noise=NoiseSpec.parse(rec["noise"]))
