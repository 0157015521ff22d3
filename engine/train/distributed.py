"""Multi-process training under torchrun: gloo on CPU, NCCL on GPUs; gradients averaged across ranks."""
from __future__ import annotations

import os

import torch
import torch.distributed as dist

from ..nets.weightcache import forget_frozen


def rank_and_world() -> tuple[int, int]:
    """(rank, world size); initialises the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)


def broadcast_params(modules: list[torch.nn.Module]) -> None:
    """Make every rank start from rank 0's weights and buffers."""
    if not dist.is_initialized():
        return
    for m in modules:
        for t in list(m.parameters()) + list(m.buffers()):
            dist.broadcast(t.data, 0)
        forget_frozen(m)  # the broadcast wrote past the version counters the weight caches watch


def average_grads(module: torch.nn.Module) -> None:
    """All-reduce gradients as DistributedDataParallel's reducer does, in one flat bucket.

    DDP's reducer does not support the double backward of the R1 penalty, so the gradients are
    averaged explicitly after backward; the arithmetic is the same as DDP's.
    """
    if not dist.is_initialized():
        return
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= dist.get_world_size()
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def sum_across(t: torch.Tensor) -> torch.Tensor:
    """`t` summed over the ranks (itself in a single process)."""
    if not dist.is_initialized():
        return t
    t = t.clone()
    dist.all_reduce(t)
    return t
