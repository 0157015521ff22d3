"""Two training processes over gloo on CPU keep identical weights (the torchrun path)."""
import os
import socket
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

sys.path.insert(0, os.path.dirname(__file__))
from test_training import make_folder, tiny_cfg  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, data: str, out: str, cache: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
                      STYLEGAN_STUDIO_CACHE=cache)
    torch.set_num_threads(1)
    from stylegan_studio.engine.training import TrainingRun
    run = TrainingRun(tiny_cfg(data, total_kimg=0.048, tick_kimg=0.048), out)
    for _ in run.steps():
        pass
    flat = torch.cat([p.detach().flatten() for p in list(run.G.parameters()) + list(run.D.parameters())])
    gathered = [torch.zeros_like(flat) for _ in range(world)]
    dist.all_gather(gathered, flat)
    if rank == 0:
        same = all(torch.equal(gathered[0], g) for g in gathered[1:])
        moved = run.nimg
        with open(os.path.join(out, "check.txt"), "w") as f:
            f.write(f"{same} {moved} {len(run.images)}")
    dist.destroy_process_group()


def test_two_gloo_ranks_hold_identical_weights(tmp_path):
    data = make_folder(tmp_path / "data", n=16)
    out = tmp_path / "run"
    mp.spawn(_worker, args=(2, _free_port(), str(data), str(out), str(tmp_path / "cache")), nprocs=2, join=True)
    same, nimg, shard = (out / "check.txt").read_text().split()
    assert same == "True"
    assert int(nimg) == 48 and int(shard) == 8  # both ranks counted, each trained on half the data
    assert list(out.glob("snapshot-*.safetensors"))  # rank 0 wrote the files
