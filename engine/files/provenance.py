"""The one provenance format of exported stills: written from a render request, read back into the same request.

A record is flat JSON: app, version, kind, the model (id, name, file), ψ/cutoff/noise of the request's
settings, and the request's other fields under their own names (a latent as {"seed": n} or {"w": [...]});
the window's `target` and `stamp` are left out. Records of older versions (the still specs before requests
and specs were one) are read into today's requests. stdlib + numpy only.
"""
from __future__ import annotations

import os

import math
from dataclasses import fields

from ..contract.errors import UserError
from ..contract.latents import (MAX_PSI, Latent, NoiseSpec, RenderSettings, SpecError, is_latent_json, latent_from_json,
                                latent_to_json)
from ..contract.requests import REQUESTS, RenderRequest, RenderSeedGrid

VERSION = 3
NOT_RECORDED = ("target", "stamp", "with_layer")  # the window's slot, order and live-only extras
APP = "stylegan-studio"


def model_record(model_id: str, name: str, path, **extra) -> dict:
    """The model part of a record (extra: e.g. training_kimg of a live G_ema); the path absolute, so that the
    image is regenerated from any folder."""
    return {"model_id": model_id, "model_name": name, "model_path": os.path.abspath(path) if path else "", **extra}


def record(spec: RenderRequest, model: dict) -> dict:
    """A JSON-ready record of the request `spec` rendered by `model` (see model_record)."""
    out = {"app": APP, "provenance_version": VERSION, "kind": spec.kind, **model}
    for f in fields(spec):
        if f.name in NOT_RECORDED:
            continue
        value = getattr(spec, f.name)
        if isinstance(value, RenderSettings):
            out.update(psi=value.psi, cutoff=value.cutoff, noise=value.noise.describe())
            if value.transformed:  # recorded only when used, so records of other models stay as they were
                out.update(translate=list(value.translate), rotate=value.rotate)
        else:
            out[f.name] = _encode(value)
    return out


def _encode(value):
    if isinstance(value, Latent):
        return latent_to_json(value)
    if isinstance(value, (tuple, list)):
        return [_encode(v) for v in value]
    return value


def spec_from(rec: dict) -> RenderRequest:
    """The request a record describes (records of versions 1 and 2 too); UserError if unreadable."""
    version = rec.get("provenance_version", 1)
    if not isinstance(version, (int, float)) or isinstance(version, bool):
        raise UserError(f"the provenance is damaged: version {_brief(version)}")
    if version < 2:
        rec = _upgrade(rec)
    if version < 3:
        rec = _upgrade_specs(rec)
    kind = rec.get("kind")
    cls = REQUESTS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise UserError(f"the provenance describes a {_brief(kind)}, which cannot be regenerated")
    try:
        args = {f.name: settings_from(rec) if f.name == "settings" else _decode(rec[f.name])
                for f in fields(cls) if f.name not in NOT_RECORDED and (f.name == "settings" or f.name in rec)}
        spec = cls(**args)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, SpecError) as exc:
        raise UserError(f"the provenance is damaged: {_brief(exc)}") from None
    check_limits(spec)
    return spec


# What a PNG may ask for: a PNG is untrusted input, and one text chunk must not make the studio render for hours
# or allocate gigabytes. Far above what the window or a figure ever saves.
MAX_IMAGES, MAX_SIZE, MAX_DRAWS = 1024, 4096, 1024


def check_types(spec: RenderRequest) -> None:
    """Refuse a spec whose fields are not of their declared types (a record's JSON may hold anything)."""
    for f in fields(spec):
        value, declared = getattr(spec, f.name), str(f.type)
        if value is None and "None" in declared:
            continue
        if declared.startswith("tuple["):
            ok = isinstance(value, tuple) and all(_is(v, declared[6:]) for v in value)
        else:
            ok = _is(value, declared.split(" |")[0])
        if not ok:
            raise UserError(f"the provenance is damaged: {f.name} is {_brief(value)}")


def _is(value, declared: str) -> bool:
    """Whether `value` fits a declared type name (the first word of it: int, float, str, Latent, …)."""
    name = declared.split(",")[0].split("]")[0].strip()
    types = {"int": int, "float": (int, float), "str": str, "Latent": Latent, "RenderSettings": RenderSettings}
    return name not in types or (isinstance(value, types[name]) and not isinstance(value, bool))


def check_limits(spec: RenderRequest) -> None:
    """Refuse a spec (read from a file) whose types are wrong or whose counts and sizes are absurd, with one line."""
    check_types(spec)
    count = sum(len(v) if isinstance(v, tuple) else 1 for v in (getattr(spec, f.name) for f in fields(spec))
                if isinstance(v, (tuple, Latent)))
    checks = [(count <= MAX_IMAGES, f"{count} latents or values (at most {MAX_IMAGES})"),
              (_int_in(getattr(spec, "size", None), 1, MAX_SIZE), f"size {_brief(getattr(spec, 'size', None))}"),
              (_int_in(getattr(spec, "thumb", None), 1, MAX_SIZE), f"size {_brief(getattr(spec, 'thumb', None))}"),
              (_int_in(getattr(spec, "steps", 2), 2, MAX_IMAGES), f"steps {_brief(getattr(spec, 'steps', 2))}"),
              (_int_in(getattr(spec, "draws", 1), 1, MAX_DRAWS), f"draws {_brief(getattr(spec, 'draws', 1))}"),
              (not isinstance(spec, RenderSeedGrid) or _int_in(spec.cols, 0, MAX_IMAGES), "an absurd column count")]
    seeds = [lat.seed for lat in _latents(spec) if lat.seed is not None] + list(getattr(spec, "seeds", ()))
    seeds += [getattr(spec, "seed")] if hasattr(spec, "seed") else []
    checks.append((all(_int_in(s, 0, 2 ** 32 - 1) for s in seeds), "a seed outside 0..2³²−1"))
    psis = [getattr(spec, "psi", 0.0), *getattr(spec, "psis", ())]
    psis += [spec.settings.psi] if isinstance(getattr(spec, "settings", None), RenderSettings) else []
    checks.append((all(math.isfinite(p) and abs(p) <= MAX_PSI for p in psis), f"ψ beyond ±{MAX_PSI}"))
    for ok, what in checks:
        if not ok:
            raise UserError(f"the provenance asks for {what}; not regenerated")


def _latents(spec: RenderRequest) -> list[Latent]:
    out = []
    for f in fields(spec):
        value = getattr(spec, f.name)
        out += [v for v in (value if isinstance(value, tuple) else (value,)) if isinstance(v, Latent)]
    return out


def _int_in(value, lo: int, hi: int) -> bool:
    """None, or an int (not bool) in lo..hi."""
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi)


def _brief(value) -> str:
    """A value or error quoted in at most 60 characters (a hostile file may hold megabytes)."""
    text = " ".join(str(value).split()) if isinstance(value, BaseException) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _decode(value):
    if is_latent_json(value):
        return latent_from_json(value)
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


def _upgrade_specs(rec: dict) -> dict:
    """A version 2 record (a still spec) in request terms: an image's or noise map's `layers` are its mix_layers,
    and grids, mixes and ψ strips were saved at the model's own size (thumb None)."""
    rec = dict(rec)
    kind = rec.get("kind", "")
    if kind in ("image", "noise-map") and "layers" in rec:
        rec["mix_layers"] = rec.pop("layers")
    if kind in ("grid", "mix", "truncation-strip"):
        rec["thumb"] = None
    return rec


def settings_from(rec: dict) -> RenderSettings:
    """The RenderSettings a record describes."""
    cutoff = rec.get("cutoff")
    if cutoff is not None and not _int_in(cutoff, 0, 1 << 16):
        raise ValueError(f"cutoff {_brief(cutoff)} is not a layer index")
    translate = rec.get("translate", (0.0, 0.0))
    if not isinstance(translate, (list, tuple)) or len(translate) != 2:
        raise ValueError(f"translate {_brief(translate)} is not two numbers")
    return RenderSettings(psi=float(rec["psi"]), cutoff=cutoff, noise=NoiseSpec.parse(rec["noise"]),
                          translate=(float(translate[0]), float(translate[1])), rotate=float(rec.get("rotate", 0.0)))
