"""Two training processes over gloo on CPU keep identical weights (the torchrun path).

The ranks are two separate Python processes given torchrun's environment variables, as torchrun
starts them. (torch.multiprocessing.spawn children aborted at exit in about 1 run in 10 on CI,
"terminate called without an active exception", after all their work was done; separate
processes did not, in 30 runs.)
"""
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))  # each rank runs this file as a script
from synthetic import make_folder, tiny_cfg  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(base: Path) -> None:
    """One rank: train the tiny run, then rank 0 records whether every rank holds the same weights."""
    from stylegan_studio.engine.train.run import TrainingRun
    torch.set_num_threads(1)
    out = base / "run"
    run = TrainingRun(tiny_cfg(base / "data", total_kimg=0.048, tick_kimg=0.048), out)
    for _ in run.steps():
        pass
    flat = torch.cat([p.detach().flatten() for p in list(run.G.parameters()) + list(run.D.parameters())])
    gathered = [torch.zeros_like(flat) for _ in range(run.world)]
    dist.all_gather(gathered, flat)
    if run.rank == 0:
        same = all(torch.equal(gathered[0], g) for g in gathered[1:])
        (out / "check.txt").write_text(f"{same} {run.nimg} {len(run.images)}")
    dist.barrier()
    dist.destroy_process_group()


def test_two_gloo_ranks_hold_identical_weights(tmp_path):
    make_folder(tmp_path / "data", n=16)
    port = _free_port()
    procs = []
    for rank in range(2):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(port), STYLEGAN_STUDIO_CACHE=str(tmp_path / "cache"))
        procs.append(subprocess.Popen([sys.executable, __file__, str(tmp_path)], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    out = tmp_path / "run"
    same, nimg, shard = (out / "check.txt").read_text().split()
    assert same == "True"
    assert int(nimg) == 48 and int(shard) == 8  # both ranks counted, each trained on half the data
    assert list(out.glob("snapshot-*.safetensors"))  # rank 0 wrote the files


if __name__ == "__main__":
    _worker(Path(sys.argv[1]))
