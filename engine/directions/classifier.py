"""A small attribute classifier for the avatars dataset: one softmax head per attribute of attributes.json.

Trained on the training zip's labels, measured on a held-out zip, saved as safetensors with its class lists
in the metadata. It labels generated faces for attribute directions and for linear separability.
"""
from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors import safe_open
from safetensors.torch import save as st_save
from torch import nn

from ..contract.errors import UserError
from ..files.fileio import atomic_write_bytes

# The attributes the issue names (python-avatars' own fields); "top" is the hair style or headwear.
ATTRIBUTES = ("top", "hair_color", "skin_color", "eyes", "eyebrows", "mouth", "facial_hair", "accessory",
              "clothing", "background_color")
GLASSES = {"WAYFARERS", "WAYFARERS_2", "KURT", "SUNGLASSES", "SUNGLASSES_2", "PRESCRIPTION_1", "PRESCRIPTION_2",
           "ROUND"}
HEADWEAR = {"HAT", "WINTER_HAT_1", "WINTER_HAT_2", "WINTER_HAT_3", "WINTER_HAT_4", "TURBAN", "HIJAB", "CHEF_CAP",
            "GLADIATOR_HELMET", "ASTRONAUT", "JEDI"}
# Yes/no attributes made of classes (a direction and a separability term each): name → (attribute, classes, negate).
BINARY = {
    "glasses": ("accessory", GLASSES, False),
    "facial hair": ("facial_hair", {"NONE"}, True),
    "dark skin": ("skin_color", {"BLACK", "DARK_BROWN", "BROWN"}, False),
    "light hair": ("hair_color", {"BLONDE", "BLONDE_GOLDEN", "PLATINUM", "SILVER_GRAY"}, False),
    "headwear": ("top", HEADWEAR, False),
    "smile": ("mouth", {"SMILE", "BIG_SMILE", "TWINKLE"}, False),
    "white background": ("background_color", {"#FFFFFF"}, False),
    "dark background": ("background_color", {"#262E33"}, False),
}
RES = 64


class AttributeNet(nn.Module):
    """Four stride-2 convolutions (64² → 4²) and one linear head per attribute."""

    def __init__(self, classes: dict[str, Sequence[str]], width: int = 16) -> None:
        super().__init__()
        self.classes = {k: tuple(v) for k, v in classes.items()}
        chans = [3, width, 2 * width, 4 * width, 8 * width]
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, stride=2, padding=1) for a, b in zip(chans[:-1], chans[1:]))
        self.norms = nn.ModuleList(nn.BatchNorm2d(b) for b in chans[1:])
        self.head = nn.Linear(chans[-1] * 16, sum(len(v) for v in self.classes.values()))

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """x [N, 3, 64, 64] in [-1, 1] → logits per attribute {name: [N, classes]}."""
        for conv, norm in zip(self.convs, self.norms):
            x = F.leaky_relu(norm(conv(x)), 0.2)
        out = self.head(x.flatten(1))
        return dict(zip(self.classes, out.split([len(v) for v in self.classes.values()], dim=1)))


def to_input(images: np.ndarray) -> torch.Tensor:
    """uint8 [N, H, W, 3] → float [N, 3, 64, 64] in [-1, 1] (resized when another size)."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 127.5 - 1
    return x if x.shape[-1] == RES else F.interpolate(x, size=(RES, RES), mode="area")


@dataclass
class LabelledImages:
    """Images of an avatar zip with their class indices per attribute."""

    images: np.ndarray                 # [N, 64, 64, 3] uint8
    labels: dict[str, np.ndarray]      # attribute → [N] int64 (−1: a class the classifier does not know)


def read_zip(path, limit: int | None = None, classes: dict[str, Sequence[str]] | None = None) -> tuple[LabelledImages, dict]:
    """(images and labels, classes) of an avatar zip; classes found in it unless given."""
    try:
        with zipfile.ZipFile(path) as z:
            attrs = json.loads(z.read("attributes.json"))[:limit]
            imgs = np.stack([_decode(z.read(f"img/{a['seed']:08d}.png")) for a in attrs])
    except (OSError, KeyError, zipfile.BadZipFile, ValueError) as exc:
        raise UserError(f"cannot read an avatars zip with attributes.json from {path}: {exc}") from None
    classes = classes or {k: tuple(sorted({a[k] for a in attrs})) for k in ATTRIBUTES}
    index = {k: {c: i for i, c in enumerate(v)} for k, v in classes.items()}
    labels = {k: np.array([index[k].get(a[k], -1) for a in attrs], np.int64) for k in classes}
    return LabelledImages(imgs, labels), classes


def _decode(png: bytes) -> np.ndarray:
    img = Image.open(io.BytesIO(png)).convert("RGB")
    return np.asarray(img if img.size == (RES, RES) else img.resize((RES, RES), Image.BILINEAR))


def train(net: AttributeNet, data: LabelledImages, epochs: int = 3, batch: int = 64, lr: float = 2e-3,
          seed: int = 0) -> Iterator[tuple[int, int, float]]:
    """Adam with a cosine schedule and x-flips; yields (step, steps, mean loss of the step)."""
    gen = torch.Generator().manual_seed(seed)
    n = len(data.images)
    steps = epochs * (n // batch)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    net.train()
    step = 0
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen)
        for i in range(0, n - batch + 1, batch):
            idx = order[i:i + batch].numpy()
            x = to_input(data.images[idx])
            flip = torch.rand(len(x), generator=gen) < 0.5
            x[flip] = x[flip].flip(-1)  # the avatars are left-right symmetric in their attributes
            out = net(x)
            loss = sum(F.cross_entropy(out[k], torch.from_numpy(data.labels[k][idx]), ignore_index=-1)
                       for k in out) / len(out)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            yield step, steps, float(loss.detach())
    net.eval()


@torch.inference_mode()
def probabilities(net: AttributeNet, images: np.ndarray, batch: int = 256) -> dict[str, np.ndarray]:
    """Class probabilities per attribute {name: [N, classes]} of uint8 images [N, H, W, 3]."""
    net.eval()
    parts: dict[str, list] = {k: [] for k in net.classes}
    for i in range(0, len(images), batch):
        for k, logits in net(to_input(images[i:i + batch])).items():
            parts[k].append(logits.softmax(dim=1).numpy())
    return {k: np.concatenate(v) for k, v in parts.items()}


def binary(net: AttributeNet, probs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """P(yes) of each BINARY attribute {name: [N]} from the class probabilities."""
    out = {}
    for name, (attr, members, negate) in BINARY.items():
        cols = [i for i, c in enumerate(net.classes[attr]) if c in members]
        p = probs[attr][:, cols].sum(axis=1)
        out[name] = 1 - p if negate else p
    return out


def accuracy(net: AttributeNet, data: LabelledImages) -> dict[str, float]:
    """Top-1 accuracy per attribute, and per BINARY attribute (threshold 0.5)."""
    probs = probabilities(net, data.images)
    out = {k: float((probs[k].argmax(1) == data.labels[k]).mean()) for k in net.classes}
    for name, p in binary(net, probs).items():
        attr, members, negate = BINARY[name]
        truth = np.isin(np.array(net.classes[attr])[data.labels[attr]], list(members)) != negate
        out[name] = float(((p > 0.5) == truth).mean())
    return out


def save(net: AttributeNet, path, info: dict) -> None:
    """Weights (float16) with the class lists and `info` (accuracy, data) in the safetensors metadata."""

    tensors = {k: v.detach().half().contiguous() for k, v in net.state_dict().items() if v.is_floating_point()}
    meta = {"format": "stylegan-studio attribute classifier 1", "classes": json.dumps(net.classes),
            "info": json.dumps(info)}
    atomic_write_bytes(path, st_save(tensors, metadata=meta))


def load(path) -> AttributeNet:
    """A classifier saved by `save`; UserError if the file is not one."""
    try:
        with safe_open(str(path), "pt") as f:
            meta = f.metadata() or {}
            if not meta.get("format", "").startswith("stylegan-studio attribute classifier"):
                raise UserError(f"{path} is not an attribute classifier")
            net = AttributeNet(json.loads(meta["classes"]))
            state = {k: f.get_tensor(k).float() for k in f.keys()}
    except UserError:
        raise
    except Exception as exc:  # safetensors raises its own error type for a file that is not one
        raise UserError(f"cannot read the attribute classifier {path}: {exc}") from None
    missing = net.load_state_dict(state, strict=False).missing_keys
    if [k for k in missing if not k.endswith("num_batches_tracked")]:
        raise UserError(f"{path} does not fit the classifier (missing {missing[:3]})")
    return net.eval()


def info(path) -> dict:
    """The `info` a saved classifier carries (held-out accuracy, data, time)."""
    with safe_open(str(path), "pt") as f:
        return json.loads((f.metadata() or {}).get("info", "{}"))


def fit(train_zip, heldout_zip, out, count: int = 20000, epochs: int = 3, progress=None) -> dict:
    """Train on `count` faces of `train_zip`, measure on `heldout_zip`, save to `out`; returns the info."""
    t0 = time.perf_counter()
    data, classes = read_zip(train_zip, count)
    held, _ = read_zip(heldout_zip, classes=classes)
    torch.manual_seed(0)
    net = AttributeNet(classes)
    for step, steps, loss in train(net, data, epochs):
        if progress and (step % 50 == 0 or step == steps):
            progress(step, steps, loss)
    acc = accuracy(net, held)
    chance = {k: float(np.bincount(held.labels[k][held.labels[k] >= 0]).max() / len(held.labels[k]))
              for k in classes}
    result = {"train": str(train_zip), "train_count": len(data.images), "epochs": epochs,
              "heldout": str(heldout_zip), "heldout_count": len(held.images), "accuracy": acc,
              "majority_class": chance, "seconds": round(time.perf_counter() - t0, 1)}
    save(net, out, result)
    return result
