"""Which device torch work runs on."""
from __future__ import annotations

import torch


def default_device() -> torch.device:
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def device_of(G: torch.nn.Module) -> torch.device:
    """The device G's weights live on."""
    return G.w_avg.device
