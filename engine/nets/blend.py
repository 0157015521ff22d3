"""Layer swapping: a generator whose synthesis layers are a per-resolution lerp of two related models.

The "toonify" technique (Pinkney & Adler 2020): fine-tune a model from a base, then take the coarse layers
from one and the fine layers from the other. Every synthesis parameter at resolution r becomes
lerp(base, other, t(r)), with t from a BlendSpec (engine/contract/blend.py documents the curve).

The mapping network and w_avg come from the base, unblended: both synthesis halves must read the same ws,
so a seed (and ψ, which pulls towards w_avg) means the same face in the blend as in its base; a lerp of two
mapping networks would make a w distribution that neither synthesis network was trained on. Stored noise
maps are buffers, not learned weights: each resolution takes the maps of the parent with the larger weight,
since a lerp of two independent N(0, 1) maps would have less than unit variance, which the learned
per-channel noise strengths do not expect.

Works for any generator that implements param_resolution(name) (the generator interface).
"""
from __future__ import annotations

import copy
import math
from pathlib import Path

import torch

from ..contract.errors import StudioError
from ..contract.blend import BlendSpec


class BlendError(StudioError, ValueError):
    """Two models that cannot be blended; the message says why in one line."""


def _shapes(G) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in G.state_dict().items()}


def _res_name(res: int | None) -> str:
    return "the mapping network" if res is None else f"the synthesis layers at {res}²"


def _differ(where: str) -> str:
    return "differs" if where == "the mapping network" else "differ"


def check_blendable(base, other) -> None:
    """Raise a one-line BlendError unless `other` has `base`'s architecture, sizes and layer shapes."""
    if base.arch != other.arch:
        raise BlendError(f"cannot blend a {base.arch} model with a {other.arch} model: the architectures differ")
    for what, attr in (("resolution", "img_resolution"), ("image channels", "img_channels"),
                       ("z size", "z_dim"), ("w size", "w_dim"), ("class count", "c_dim")):
        a, b = getattr(base, attr), getattr(other, attr)
        if a != b:
            unit = "²" if attr == "img_resolution" else ""
            raise BlendError(f"cannot blend: the {what} differs ({a}{unit} in the base, {b}{unit} in the other model)")
    mine, theirs = _shapes(base), _shapes(other)
    for name in sorted(set(mine) | set(theirs), key=lambda n: (base.param_resolution(n) is not None, n)):
        where = _res_name(base.param_resolution(name) if name in mine else other.param_resolution(name))
        if name not in theirs or name not in mine:
            side = "the other model" if name not in theirs else "the base"
            raise BlendError(f"cannot blend: {where} {_differ(where)} ({side} has no {name})")
        if mine[name] != theirs[name]:
            raise BlendError(f"cannot blend: {where} {_differ(where)} ({name} is {list(mine[name])} in the base, "
                             f"{list(theirs[name])} in the other model)")


# A model fine-tuned from another keeps its mapping network almost unchanged (lr × 0.01: 0.02 % after 4 kimg in
# docs/blending.md); two independently initialised ones are about 140 % apart. Above this, say so.
UNRELATED = 0.5


@torch.no_grad()
def mapping_distance(base, other) -> float:
    """‖mapping(other) − mapping(base)‖ / ‖mapping(base)‖ over the learned weights outside synthesis."""
    theirs = dict(other.named_parameters())
    mine = [(p, theirs[n]) for n, p in base.named_parameters() if base.param_resolution(n) is None]
    diff = sum(float((a - b.to(a)).square().sum()) for a, b in mine)
    norm = sum(float(a.square().sum()) for a, _ in mine)
    return math.sqrt(diff / norm) if norm else 0.0


def relation_note(distance: float) -> str:
    """A one-line warning when the two mapping networks look unrelated, else ""."""
    if distance <= UNRELATED:
        return ""
    return (f"note: the two mapping networks are {distance:.0%} apart, so the second model was probably not "
            "fine-tuned from the base; its layers never worked with the base's, and the blend may be noise")


def blend_resolutions(G) -> tuple[int, ...]:
    """The distinct synthesis resolutions of G's parameters, ascending."""
    found = {G.param_resolution(name) for name in G.state_dict()}
    return tuple(sorted(r for r in found if r is not None))


def blend_state(base, other, spec: BlendSpec) -> dict[str, torch.Tensor]:
    """The blended state_dict: synthesis parameters lerped per resolution, the rest from the base."""
    check_blendable(base, other)
    theirs = other.state_dict()
    learned = {name for name, _ in base.named_parameters()}
    out = {}
    for name, mine in base.state_dict().items():
        res = base.param_resolution(name)
        t = 0.0 if res is None else spec.weight(res)
        if t == 0.0:
            out[name] = mine.clone()
        elif t == 1.0 or name not in learned and t >= 0.5:
            out[name] = theirs[name].to(mine.device, mine.dtype).clone()
        elif name not in learned:  # a buffer (stored noise) of the parent with the larger weight
            out[name] = mine.clone()
        else:
            out[name] = torch.lerp(mine, theirs[name].to(mine.device, mine.dtype), t)
    return out


def blend_generators(base, other, spec: BlendSpec):
    """A new generator (a copy of the base's) holding blend_state(base, other, spec)."""
    G = copy.deepcopy(base)
    G.load_state_dict(blend_state(base, other, spec), assign=True)  # the copy's own new tensors
    return G.eval().requires_grad_(False)


def layer_weights(G, spec: BlendSpec) -> tuple[float, ...]:
    """t of each ws input (per synthesis layer, in order), from its resolution."""
    return tuple(spec.weight(r) for r in G.ws_resolutions)


def blend_record(base_ref: dict, other_ref: dict, G, other, spec: BlendSpec) -> dict:
    """The `blend` part of a blended model's card: both parents, the curve and every weight."""
    return {"base": base_ref, "other": other_ref, "at": spec.at, "width": spec.width,
            "curve": "logistic in log2(resolution), from 0.1 to 0.9 over `width` doublings, centred between at/2 "
                     "and at (width 0: a hard swap at `at`)",
            "mapping": "base", "w_avg": "base", "mapping_distance": round(mapping_distance(G, other), 6),
            "resolution_weights": {str(r): round(t, 6) for r, t in spec.weights(blend_resolutions(G)).items()},
            "layer_weights": [round(t, 6) for t in layer_weights(G, spec)]}


def parent_ref(path, meta) -> dict:
    """A parent as the card records it: file, model id and name."""
    return {"path": str(Path(path).resolve()), "model_id": meta.model_id, "name": meta.name}


def describe_blend(rec: dict) -> list[str]:
    """Lines describing a blend record, for `info` and `blend` (a damaged record: one line saying so)."""
    try:
        return _describe(rec)
    except (AttributeError, TypeError, ValueError, KeyError):  # the header is data from a file: anything goes
        return ["blend     (the blend record in this file is damaged)"]


def _describe(rec: dict) -> list[str]:
    weights = ", ".join(f"{r}² {float(t):.3g}" for r, t in rec["resolution_weights"].items())
    lines = [f"{side:<9} {rec[side]['name']} (id {rec[side]['model_id']}) {rec[side]['path']}"
             for side in ("base", "other")]
    lines.append(f"swap      at {rec['at']}², width {float(rec['width']):g} doublings; "
                 "mapping and w_avg from the base")
    lines.append(f"weights   share of the other model per resolution: {weights}")
    if "mapping_distance" in rec:
        distance = float(rec["mapping_distance"])
        note = relation_note(distance)
        lines.append(f"mapping   the other's is {distance:.2%} from the base's" + (f"; {note}" if note else ""))
    return lines
