"""Attribute directions: generate faces, label them with the attribute classifier, fit a boundary in W per attribute.

The same labelled samples (z, w and P(yes) per attribute) serve linear separability (engine/metrics/separability.py).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..contract.errors import UserError
from ..nets.api import GeneratorNet
from ..contract.latents import seed_to_z
from ..render.synth import map_random, synthesize, to_uint8
from . import classifier
from .boundary import fit_svm
from ..contract.directions import DirectionSet

BATCH = 16
FIRST_SEED = 200_000  # sample seeds start here: apart from the seeds people browse and from FID's 100000+


@dataclass(frozen=True)
class Labelled:
    """Generated faces: their z, w (untruncated) and the classifier's P(yes) per binary attribute."""

    z: np.ndarray                    # [N, z_dim]
    w: np.ndarray                    # [N, w_dim]
    p: dict[str, np.ndarray]         # attribute → [N]


def bundled_classifier() -> Path:
    """The attribute classifier shipped with the studio (trained on the avatars dataset)."""
    return Path(__file__).resolve().parents[2] / "resources" / "classifiers" / "avatars-attributes.safetensors"


def label_samples(G: GeneratorNet, net: classifier.AttributeNet, count: int,
                  seed: int = FIRST_SEED) -> Iterator[tuple[int, int]]:
    """Render faces of seeds seed… (ψ 1, stored noise) in batches, classify them; returns Labelled."""
    z = seed_to_z(range(seed, seed + count), G.z_dim)
    ws, probs = [], []
    for start in range(0, count, BATCH):
        with torch.inference_mode():
            w = map_random(G, torch.from_numpy(z[start:start + BATCH]).to(G.w_avg.device))  # [B, w_dim]
            imgs = to_uint8(synthesize(G, w.unsqueeze(1).repeat(1, G.num_ws, 1), None))
        ws.append(w.cpu().numpy())
        probs.append(classifier.binary(net, classifier.probabilities(net, imgs)))
        yield min(start + BATCH, count), count
    return Labelled(z, np.concatenate(ws), {k: np.concatenate([p[k] for p in probs]) for k in probs[0]})


def confident_half(p: np.ndarray) -> np.ndarray:
    """Indices of the half of the samples the classifier is surest about (the paper's recipe)."""
    return np.argsort(-np.abs(p - 0.5))[:len(p) // 2]


def directions_from(samples: Labelled, model_id: str, num_ws: int) -> DirectionSet:
    """One direction per attribute: the unit normal of a linear SVM in W on the confident half, pointing to 'yes'.

    Score: the boundary's accuracy on the other half's confident labels would mix in the classifier's doubt,
    so it is its accuracy on the half it was fitted on; σ is the spread of all samples' w along the normal.
    """
    names, vectors, scores, sigmas = [], [], [], []
    for name, p in samples.p.items():
        keep = confident_half(p)
        y = p[keep] > 0.5
        if y.all() or not y.any():
            continue  # the generator never (or always) shows it: no boundary to fit
        b = fit_svm(samples.w[keep], y)
        names.append(name)
        vectors.append(b.normal.astype(np.float32))
        scores.append(float((b.predict(samples.w[keep]) == y).mean()))
        sigmas.append(float((samples.w @ b.normal).std()))
    if not names:
        raise UserError("the classifier sees no attribute that varies among these faces: no direction to fit")
    return DirectionSet(np.stack(vectors), tuple(names), "attributes", tuple(range(num_ws)), model_id,
                        np.array(sigmas, np.float32), np.array(scores, np.float32), "boundary accuracy")


def attribute_directions(G: GeneratorNet, net: classifier.AttributeNet, model_id: str, count: int = 3000,
                         seed: int = FIRST_SEED) -> Iterator[tuple[int, int]]:
    """Label `count` generated faces and fit one boundary per attribute; returns a DirectionSet."""
    samples = yield from label_samples(G, net, count, seed)
    return directions_from(samples, model_id, G.num_ws)
