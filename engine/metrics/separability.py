"""Linear separability (Karras et al. 2019, §4.2): how well a hyperplane in Z or W splits each attribute.

Recipe of the paper: generate faces, label them with an attribute classifier, keep the half it is surest
about, fit a linear SVM in the latent space, take the conditional entropy H(Y|X) of the classifier's labels
Y given the SVM's side X, and report exp(Σ over attributes of H(Y|X)). Lower is more separable.
"""
from __future__ import annotations

import numpy as np

from ..directions.attributes import Labelled, confident_half
from ..directions.boundary import conditional_entropy, fit_svm


def separability(samples: Labelled) -> dict:
    """{'z': score, 'w': score, 'per_attribute': {name: {'z': H, 'w': H, 'yes': share}}, 'kept': n}."""
    per, sums = {}, {"z": 0.0, "w": 0.0}
    for name, p in samples.p.items():
        keep = confident_half(p)
        y = p[keep] > 0.5
        row = {"yes": float(y.mean())}
        for space, x in (("z", samples.z), ("w", samples.w)):
            if y.all() or not y.any():
                row[space] = 0.0  # one label only: nothing to separate, and nothing uncertain
                continue
            row[space] = conditional_entropy(y, fit_svm(x[keep], y).predict(x[keep]))
            sums[space] += row[space]
        per[name] = row
    return {"z": float(np.exp(sums["z"])), "w": float(np.exp(sums["w"])), "per_attribute": per,
            "kept": len(samples.z) // 2}
