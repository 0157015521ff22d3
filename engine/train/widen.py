"""Widening a StyleGAN v1 G or D into a config with more feature maps, keeping what it computes.

The new channels start silent: their own weights are fresh (so they can learn), while every weight that reads
them from an old channel is zero, so the wider network's images and scores equal the narrow one's. Two places
need more than that: an AdaIN affine holds its scales and biases as two halves, and D's 4² features feed the
minibatch-stddev mean, which averages over channels, so D's new 4² channels start at zero output instead (and
the weight on the stddev feature is scaled up by the channel ratio it is averaged over).
"""
from __future__ import annotations

import torch
from torch import nn

from ..contract.errors import UserError


def copy_or_widen(old: nn.Module, new: nn.Module) -> None:
    """Load `old`'s weights into `new`: as they are where the two have the same shapes, else widened."""
    old_sd, new_sd = old.state_dict(), new.state_dict()
    if old_sd.keys() == new_sd.keys() and all(old_sd[k].shape == new_sd[k].shape for k in old_sd):
        new.load_state_dict(old_sd)
    else:
        widen_into(old, new)


def widen_into(old: nn.Module, new: nn.Module) -> None:
    """Copy `old` (narrower) into `new` in place; `new` holds fresh weights of the same architecture."""
    old_sd, new_sd = old.state_dict(), new.state_dict()
    if old_sd.keys() != new_sd.keys():
        raise UserError("cannot widen: the two networks differ in more than their feature maps")
    is_d = hasattr(new, "mbstd")
    silent = {"blocks.8.conv1.weight", "blocks.8.bias1", "from_rgb4.weight", "rgb_bias4"} if is_d else set()
    with torch.no_grad():
        for name, t in new_sd.items():
            o = old_sd[name].to(t.dtype)
            if o.shape == t.shape:
                t.copy_(o)
            elif _module(new, name) is not None:  # an equalised-lr weight [out, in, ...]
                _widen_weight(name, o, t, _module(old, name).w_scale / _module(new, name).w_scale, is_d)
            else:  # a per-channel vector (bias, noise strength) or the 4² constant: old channels first
                rows = _rows(name, o.shape[_axis(name)], t.shape[_axis(name)])
                t.index_copy_(_axis(name), rows, o)
            if name in silent:  # D's new 4² channels give 0, so the stddev mean over channels only shrinks
                t[o.shape[0]:] = 0
            if is_d and name == "conv.weight":  # the stddev feature (last input) is averaged over more channels
                c_old, c_new = o.shape[1] - 1, t.shape[1] - 1
                t[:o.shape[0], c_new] *= c_new / c_old


def _module(net: nn.Module, name: str):
    """The equalised-lr layer owning weight `name` (None for other tensors)."""
    mod = net.get_submodule(name.rsplit(".", 1)[0]) if "." in name else net
    return mod if hasattr(mod, "w_scale") and name.endswith("weight") else None


def _axis(name: str) -> int:
    """The channel axis of a per-channel tensor (the 4² constant is [1, C, 4, 4])."""
    return 1 if name.endswith(".const") else 0


def _rows(name: str, n_old: int, n_new: int) -> torch.Tensor:
    """Where the old output channels sit in the new tensor (an AdaIN affine: scales, then biases)."""
    if ".style." in name:  # [2·C]: C scales, then C biases
        c_old, c_new = n_old // 2, n_new // 2
        return torch.cat([torch.arange(c_old), c_new + torch.arange(c_old)])
    return torch.arange(n_old)


def _widen_weight(name: str, o: torch.Tensor, t: torch.Tensor, ratio: float, is_d: bool) -> None:
    """Old rows and columns into the new weight (scaled for its new fan-in); old rows read no new column."""
    rows = _rows(name, o.shape[0], t.shape[0])
    i_old, i_new = o.shape[1], t.shape[1]
    if is_d and name == "conv.weight":  # inputs: features, then the one stddev feature last
        cols = torch.cat([torch.arange(i_old - 1), torch.tensor([i_new - 1])])
        reads_silent = True  # D's new 4² features are 0 at the start: keep their fresh weights, so they learn
    else:  # D's fc reads [C, 4, 4] flattened channel-major: the old channels are the leading columns too
        cols, reads_silent = torch.arange(i_old), False
    sub = t[rows]
    if not reads_silent:
        sub[:, i_old:] = 0
    sub[:, cols] = o * ratio
    t[rows] = sub
