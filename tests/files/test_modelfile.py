"""Model files: round trip, atomic writes, clear errors for bad files."""
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from helpers import tiny_generator
from stylegan_studio.engine.render import synth as ex
from stylegan_studio.engine.files.fileio import atomic_write_bytes
from stylegan_studio.engine.files.modelfile import ModelFileError, ModelMeta, load_model, read_header, save_model
from stylegan_studio.engine.contract.latents import Latent, RenderSettings


def test_roundtrip_gives_identical_pixels(tmp_path):
    G = tiny_generator()
    path = tmp_path / "m.safetensors"
    meta = save_model(G, path, ModelMeta(source="test", kimg=1.5))
    G2, meta2 = load_model(path)
    assert meta2 == meta and meta.model_id and meta2.kimg == 1.5
    assert G2.cfg == G.cfg
    lat = [Latent(seed=s) for s in range(3)]
    s = RenderSettings(psi=0.7)
    np.testing.assert_array_equal(ex.render_latents(G, lat, s), ex.render_latents(G2, lat, s))
    torch.testing.assert_close(G2.w_avg, G.w_avg, rtol=0, atol=0)


def test_a_snapshot_taken_while_growing_keeps_its_phase_and_a_damaged_phase_is_one_line(tmp_path):
    G = tiny_generator()
    path = tmp_path / "g.safetensors"
    G.grown = (8, 0.5)
    assert save_model(G, path).grown == (8, 0.5)
    G2, meta = load_model(path)
    assert G2.grown == meta.grown == (8, 0.5)
    s = RenderSettings()
    np.testing.assert_array_equal(ex.render_latents(G, [Latent(seed=2)], s), ex.render_latents(G2, [Latent(seed=2)], s))
    for bad in ([8], [12, 0.5], {"a": 1}, "16", [8, "nan"]):
        save_model(G, path, ModelMeta(grown=bad))
        with pytest.raises(ModelFileError, match="damaged model header") as info:
            load_model(path)
        assert "\n" not in str(info.value)


def test_half_storage_is_close(tmp_path):
    G = tiny_generator()
    path = tmp_path / "h.safetensors"
    save_model(G, path, half=True)
    G2, _ = load_model(path)
    a = ex.render_latents(G, [Latent(seed=1)], RenderSettings()).astype(int)
    b = ex.render_latents(G2, [Latent(seed=1)], RenderSettings()).astype(int)
    assert np.abs(a - b).max() <= 3


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "foreign", "missing"])
def test_bad_files_give_one_clear_line(tmp_path, damage):
    G = tiny_generator()
    path = tmp_path / "m.safetensors"
    save_model(G, path)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00garbage" * 100)
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "foreign":
        save_file({"x": torch.zeros(3)}, str(path))
    else:
        path = tmp_path / "nope.safetensors"
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg and len(msg) < 300


def test_mismatched_weights_are_rejected(tmp_path):
    G = tiny_generator()
    path = tmp_path / "m.safetensors"
    save_model(G, path)
    cfg, meta = read_header(path)
    other = tiny_generator(res=32)
    from safetensors.torch import save as st_save
    import json, dataclasses
    header = {"format": "stylegan-studio/model", "format_version": "1", "config": json.dumps(cfg.to_dict()),
              "meta": json.dumps(dataclasses.asdict(meta))}
    path.write_bytes(st_save({k: v.contiguous() for k, v in other.state_dict().items()}, metadata=header))
    with pytest.raises(ModelFileError, match="do not match"):
        load_model(path)


def test_failed_write_leaves_previous_file(tmp_path, monkeypatch):
    G = tiny_generator()
    path = tmp_path / "m.safetensors"
    save_model(G, path)
    before = path.read_bytes()
    import os
    def boom(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(ModelFileError, match="disk is full"):
        save_model(tiny_generator(seed=1), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]


def test_atomic_write_to_missing_folder_is_one_line(tmp_path):
    with pytest.raises(OSError, match="folder does not exist"):
        atomic_write_bytes(tmp_path / "no" / "x.bin", b"1")
