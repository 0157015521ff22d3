"""Attribute classifier, linear boundaries, attribute directions, linear separability and path length."""
import json

import numpy as np
import pytest
import torch

from helpers import tiny_generator
from stylegan_studio.engine.cli.main import main
from stylegan_studio.engine.directions import classifier
from stylegan_studio.engine.directions.attributes import Labelled, directions_from, label_samples
from stylegan_studio.engine.directions.boundary import conditional_entropy, fit_svm
from stylegan_studio.engine.directions.compute import run
from stylegan_studio.engine.contract.errors import UserError
from stylegan_studio.engine.files.modelfile import save_model
from stylegan_studio.engine.metrics import ppl
from stylegan_studio.engine.metrics.separability import separability
from stylegan_studio.engine.train.avatars import build_avatar_zip

RNG = np.random.default_rng(0)


def test_the_svm_finds_a_separating_plane():
    x = RNG.normal(size=(400, 5))
    truth = np.array([0.6, -0.8, 0, 0, 0])
    y = x @ truth > 0.3
    b = fit_svm(x * [1, 10, 1, 1, 1], y)          # scaled inputs: the normal comes back in input units
    assert (b.predict(x * [1, 10, 1, 1, 1]) == y).mean() > 0.98
    assert abs(np.linalg.norm(b.normal) - 1) < 1e-9


def test_conditional_entropy():
    y = RNG.random(10000) > 0.5
    assert conditional_entropy(y, y) == 0.0
    assert abs(conditional_entropy(y, RNG.random(10000) > 0.5) - np.log(2)) < 0.01


def synthetic(n=1000):
    """Faces whose 'glasses' is the sign of w[0] and whose 'smile' is a coin flip; z unrelated to w."""
    w, z = RNG.normal(size=(n, 8)), RNG.normal(size=(n, 8))
    p = {"glasses": 1 / (1 + np.exp(-8 * w[:, 0])), "smile": RNG.random(n)}
    return Labelled(z, w, p)


def test_separability_is_exp_of_summed_conditional_entropies():
    res = separability(synthetic())
    assert res["per_attribute"]["glasses"]["w"] < 0.05 < res["per_attribute"]["glasses"]["z"]
    assert res["w"] < res["z"] and res["kept"] == 500
    total = sum(r["w"] for r in res["per_attribute"].values())
    assert res["w"] == pytest.approx(np.exp(total))


def test_an_attribute_direction_is_the_boundary_normal():
    ds = directions_from(synthetic(), "m", 6)
    k = ds.index("glasses")
    assert ds.vectors[k][0] > 0.95 and ds.scores[k] > 0.97 and ds.kind == "attributes"
    with pytest.raises(UserError, match="no attribute"):
        directions_from(Labelled(np.zeros((10, 2)), np.zeros((10, 2)), {"a": np.ones(10)}), "m", 6)


def test_pyramid_distance():
    a = torch.zeros(2, 3, 16, 16)
    b = a.clone()
    assert ppl.pyramid_distance(a, b).tolist() == [0.0, 0.0]
    b[0] += 0.1                                    # a flat change counts at every level (16², 8²)
    b[1, :, ::2, ::2] += 0.4                       # a fine pattern of the same energy vanishes when pooled
    d = ppl.pyramid_distance(a, b)
    assert d[0] == pytest.approx(2 * 0.01) and d[1] == pytest.approx(0.04 + 0.01)


def test_path_length_drops_outliers_and_is_reproducible():
    G = tiny_generator(16)
    one = run(ppl.path_length(G, "w", "full", 40, seed=3))
    assert one == run(ppl.path_length(G, "w", "full", 40, seed=3))
    assert one["count"] == 40 and 36 <= one["kept"] < 40 and np.isfinite(one["ppl"]) and one["ppl"] > 0
    assert run(ppl.path_length(G, "z", "end", 40))["ppl"] != one["ppl"]


@pytest.fixture(scope="module")
def avatars(tmp_path_factory):
    root = tmp_path_factory.mktemp("av")
    build_avatar_zip(root / "train.zip", 48, 32, seed=0, workers=1)
    build_avatar_zip(root / "held.zip", 16, 32, seed=1000, workers=1)
    return root


def test_classifier_trains_saves_and_loads(avatars, tmp_path):
    out = tmp_path / "clf.safetensors"
    result = classifier.fit(avatars / "train.zip", avatars / "held.zip", out, count=48, epochs=2)
    assert set(classifier.ATTRIBUTES) | set(classifier.BINARY) == set(result["accuracy"])
    assert all(0 <= a <= 1 for a in result["accuracy"].values()) and result["heldout_count"] == 16
    net = classifier.load(out)
    held, _ = classifier.read_zip(avatars / "held.zip", classes=net.classes)
    assert classifier.accuracy(net, held) == pytest.approx(result["accuracy"], abs=0.07)  # float16 weights
    assert classifier.info(out)["epochs"] == 2
    with pytest.raises(UserError):
        classifier.load(avatars / "train.zip")


def test_cli_metrics_print_the_tables(avatars, tmp_path, capsys):
    model, clf = tmp_path / "tiny.safetensors", tmp_path / "clf.safetensors"
    save_model(tiny_generator(16), model)
    assert main(["directions", "classifier", "--data", str(avatars / "train.zip"), "--heldout",
                 str(avatars / "held.zip"), "--images", "48", "--epochs", "1", "--out", str(clf)]) == 0
    assert "glasses" in capsys.readouterr().out
    assert main(["metrics", "ppl", "--model", str(model), "--count", "20"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["full", "end"] and lines[1].startswith("Z") and lines[2].startswith("W")
    assert set(json.loads(lines[-1])["ppl"]) == {"z_full", "z_end", "w_full", "w_end"}
    assert main(["metrics", "ls", "--model", str(model), "--classifier", str(clf), "--count", "40"]) == 0
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    assert out[-2].startswith("separability") and json.loads(out[-1])["kept"] == 20
    assert json.loads(out[-1])["note"].startswith("only 20 faces kept") and captured.err.startswith("note: only 20")
    assert main(["metrics", "fid", "--model", str(model)]) == 1
    assert "needs --data" in capsys.readouterr().err


def test_labelled_samples_are_the_seeds_faces(avatars, tmp_path):
    net = classifier.AttributeNet({k: ("a", "b") for k in classifier.ATTRIBUTES})
    G = tiny_generator(16)
    s = run(label_samples(G, net, 20, seed=5))
    from stylegan_studio.engine.contract.latents import seed_to_z
    np.testing.assert_array_equal(s.z, seed_to_z(range(5, 25), 16))
    assert s.w.shape == (20, G.cfg.w_dim) and set(s.p) == set(classifier.BINARY)
