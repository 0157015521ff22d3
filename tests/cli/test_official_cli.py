"""`import`, `info` and .pkl models in the CLI and the engine: conversion once, provenance, exact images."""
import numpy as np
import pytest
import torch
from PIL import Image

import official_fixtures as fx
import official_reference as ref
from stylegan_studio.engine.cli.main import main
from stylegan_studio.engine.contract.messages import LoadModel
from stylegan_studio.engine.files.modelfile import load_model, read_header
from stylegan_studio.engine.thread.model_slot import ModelSlot
from stylegan_studio.engine.files.pngio import read_provenance
from stylegan_studio.engine.contract.latents import seed_to_z
from stylegan_studio.engine.files.tfpickle import file_sha256


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    """A 64² official-format snapshot (10 layers, so cutoff 8 leaves two alone) with its kwargs and networks."""
    kw = fx.tiny_kwargs(64)
    nets = fx.snapshot(kw, seed=11)
    return kw, nets, fx.write(tmp_path_factory.mktemp("o") / "network-snapshot-001234.pkl", nets)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def official_uint8(img):
    """NVIDIA's conversion of [-1, 1] images to uint8: x·127.5 + 127.5 + 0.5, saturated, truncated."""
    return np.clip(img * 127.5 + 128.0, 0, 255).astype(np.uint8).transpose(0, 2, 3, 1)


def test_import_writes_a_model_with_provenance(official, tmp_path, capsys):
    kw, nets, pkl = official
    out = tmp_path / "m.safetensors"
    assert main(["import", str(pkl), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    sha = file_sha256(pkl)
    assert "64² StyleGAN v1 generator" in printed and sha in printed and "fmap_base=128" in printed
    cfg, meta = read_header(out)
    assert cfg.resolution == 64 and meta.kimg == 1234 and meta.imported["sha256"] == sha
    assert meta.imported["static_kwargs"]["resolution"] == 64 and "Gs" in meta.source
    assert main(["info", "--model", str(out)]) == 0
    info = capsys.readouterr().out
    assert f"sha256    {sha}" in info and "imported  network-snapshot-001234.pkl (Gs (G_style))" in info


@pytest.mark.parametrize("psi", [1.0, 0.7])
def test_generated_pngs_match_the_official_computation(official, tmp_path, psi):
    """Seeds at ψ 1 and ψ 0.7 (cutoff 8) with the stored noise, as Gs.run(..., randomize_noise=False) gives."""
    kw, nets, pkl = official
    out = tmp_path / "m.safetensors"
    assert main(["import", str(pkl), "--out", str(out)]) == 0
    assert main(["generate", "--model", str(out), "--seeds", "0-2", "--psi", str(psi), "--cutoff", "8",
                 "--noise", "const", "--out", str(tmp_path / "imgs")]) == 0
    v = {k: np.asarray(a, np.float64) for k, a in nets[2].vars().items()}
    want = official_uint8(ref.G_style(v, kw, seed_to_z([0, 1, 2], kw["latent_size"]), psi, cutoff=8))
    for i in range(3):
        got = np.asarray(Image.open(tmp_path / "imgs" / f"seed{i:04d}.png").convert("RGB"))
        assert np.abs(got.astype(int) - want[i]).max() <= 1  # float32 vs float64 at a rounding edge


def test_info_and_generate_accept_the_pickle_itself(official, tmp_path, capsys, cache):
    kw, nets, pkl = official
    assert main(["info", "--model", str(pkl)]) == 0
    assert "not converted" in capsys.readouterr().out and not cache.exists()
    assert main(["generate", "--model", str(pkl), "--seeds", "3", "--out", str(tmp_path / "a")]) == 0
    assert "Converted the official StyleGAN pickle" in capsys.readouterr().err
    assert main(["generate", "--model", str(pkl), "--seeds", "3", "--out", str(tmp_path / "b")]) == 0
    assert "cached conversion" in capsys.readouterr().err
    assert read_provenance(tmp_path / "b" / "seed0003.png")["model_path"] == str(pkl)


def test_hostile_import_is_one_line_and_runs_nothing(tmp_path, capsys):
    marker = tmp_path / "marker"
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(f"cos\nsystem\n(S'touch {marker}'\ntR.".encode())
    assert main(["import", str(evil), "--out", str(tmp_path / "m.safetensors")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refused" in err and "os.system" in err
    assert not marker.exists() and not (tmp_path / "m.safetensors").exists()


def test_engine_slot_converts_once_then_uses_the_cache(official, cache):
    kw, nets, pkl = official
    slot = ModelSlot(torch.device("cpu"))
    first = slot.load(str(pkl))
    assert first.startswith("Converted") and len(list(cache.glob("imported/*.safetensors"))) == 1
    info = slot.info()
    assert info.resolution == 64 and info.path == str(pkl) and slot.meta.imported["file"] == pkl.name
    assert "cached conversion" in slot.load(str(pkl))
    cached = next(cache.glob("imported/*.safetensors"))
    G, _ = load_model(cached)
    np.testing.assert_array_equal(G.w_avg.numpy(), nets[2].vars()["dlatent_avg"])
    cached.write_bytes(b"damaged")  # a damaged cache entry is converted again
    assert slot.load(str(pkl)).startswith("Converted")


def test_engine_reports_a_refused_pickle_and_keeps_the_model(official, tmp_path):
    from stylegan_studio.engine.thread.engine import Engine
    events = []
    eng = Engine(events.append, threads=1, device="cpu")
    eng.start()
    bad = tmp_path / "bad.pkl"
    bad.write_bytes(b"\x80\x02cdnnlib.util\nFoo\n)\x81}b.")
    for path in (str(official[2]), str(bad)):
        eng.post(LoadModel(path))
    import time
    deadline = time.time() + 30
    while time.time() < deadline and len(events) < 2:
        time.sleep(0.05)
    eng.close()
    info, error = events[0], events[1]
    assert info.notice.startswith("Converted") and "refused" in error.message and eng.model.G is not None
