"""engine/train/memorisation.py: D's scores of training images, unseen ones and fakes, as the loop's D sees them."""
import pytest
import torch

from stylegan_studio.engine.train import memorisation
from stylegan_studio.engine.train.run import TrainingRun

from helpers import make_folder, tiny_cfg


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))


def test_counts_are_whole_batches_unless_the_sets_are_smaller():
    big, small = range(5000), range(24)
    assert memorisation.usable_count(4864, big, big) == 4864 == 19 * memorisation.BATCH
    assert memorisation.usable_count(5000, big, range(4000)) == 15 * memorisation.BATCH
    assert memorisation.usable_count(4864, big, small) == 24


def test_reals_are_scored_as_the_loop_sees_them_mid_fade(tmp_path):
    run = TrainingRun(tiny_cfg(make_folder(tmp_path / "data", n=16), mirror=False), tmp_path / "r")
    run.nimg = 40                                         # 0.04 kimg: fading 16² in
    res, alpha = run.cfg.phase(run.kimg)
    assert res == 16 and 0 < alpha < 1
    state = run.gen.get_state()
    with torch.no_grad():
        loop = run._D(run._reals(8, res, alpha), alpha)   # the D step's own reals and scores
    run.gen.set_state(state)
    idx = torch.randint(0, len(run.images), (8,), generator=run.gen)  # the same draw
    torch.testing.assert_close(memorisation.real_scores(run, run.images[idx]), loop.flatten())


class Lookup(torch.nn.Module):
    """A D that has memorised its training images: +1 for those, −1 for anything else."""

    def __init__(self, seen: torch.Tensor) -> None:
        super().__init__()
        self.seen = seen.flatten(1)

    def forward(self, x, *args):
        hit = (torch.cdist(x.flatten(1), self.seen).min(dim=1).values < 1e-3)
        return (hit.float() * 2 - 1).unsqueeze(1)


def test_a_memorising_d_shows_its_gap(tmp_path):
    seen = make_folder(tmp_path / "seen", n=16)
    run = TrainingRun(tiny_cfg(seen, growing=False, resolution=16, mirror=False), tmp_path / "r")
    unseen = torch.flip(run.images, dims=[2]).numpy()     # other images of the same kind (mirrored discs)
    res, alpha = run.cfg.phase(run.kimg)
    run.D = Lookup(run.at_phase(run.images.permute(0, 3, 1, 2).float() / 127.5 - 1, res, alpha))
    result = memorisation.measure(run, run.images, unseen, 16)
    assert result["count"] == 16 and result["seen"] == {"r_t": 1.0, "mean": 1.0}
    assert result["unseen"]["r_t"] < 0 and result["fakes"]["r_t"] == -1.0
    assert result["r_t_gap"] == pytest.approx(1.0 - result["unseen"]["r_t"])
    table = memorisation.table(result)
    assert "| training images | 16 | +1.000 | +1.00 |" in table and "r_t gap (training − unseen)" in table
