"""Faces exported one PNG each (the window's Export Faces, `generate --out`/`--latents`): names, pixels, records."""
import numpy as np
import pytest
from PIL import Image

from helpers import tiny_generator
from stylegan_studio.engine.cli.main import main
from stylegan_studio.engine.contract import messages as m
from stylegan_studio.engine.contract.errors import UserError
from stylegan_studio.engine.contract.facefiles import face_file_names
from stylegan_studio.engine.contract.latentfile import encode_latents
from stylegan_studio.engine.contract.latents import Edit, Latent, RenderSettings
from stylegan_studio.engine.contract.requests import RenderImage
from stylegan_studio.engine.files.fileio import WriteError
from stylegan_studio.engine.files.modelfile import save_model
from stylegan_studio.engine.files.pngio import read_provenance, read_request
from stylegan_studio.engine.render import exports


def test_plain_seeds_keep_their_names_and_any_other_list_is_numbered_in_order():
    assert face_file_names([Latent(seed=3), Latent(seed=42, c=1)]) == ["seed0003.png", "seed0042.png"]
    assert face_file_names([Latent(seed=3, c=0), Latent(seed=3, c=1)]) == ["001-seed-3-class-0.png",
                                                                          "002-seed-3-class-1.png"]
    edited = Latent(seed=42, edit=Edit((0.5,) * 16, (0,), "pc 3 +2σ"))
    names = face_file_names([Latent(seed=3), edited, Latent(w=np.zeros((6, 16), np.float32)), Latent(seed=3)])
    assert names == ["001-seed-3.png", "002-seed-42-pc-3-2.png", "003-custom-w-plus.png", "004-seed-3.png"]
    assert face_file_names([Latent(seed=1), Latent(seed=1)]) == ["001-seed-1.png", "002-seed-1.png"]  # no overwrite
    assert face_file_names([Latent(w=np.zeros(16))], ["Ünïcode / ../../etc"]) == ["001-n-code-etc.png"]
    assert face_file_names([Latent(w=np.zeros(16))] * 1000)[-1].startswith("1000-")


def test_each_face_is_the_still_save_image_writes(tmp_path):
    G = tiny_generator(16)
    s = RenderSettings(psi=0.5)
    faces = [Latent(seed=7), Latent(seed=7, edit=Edit(tuple(np.linspace(-1, 1, 16)), (0, 1), "pc 0 +1σ")),
             Latent(w=np.linspace(-1, 1, G.num_ws * 16, dtype=np.float32).reshape(G.num_ws, 16))]
    reqs = [RenderImage(latent=lat, settings=s) for lat in faces] * 4          # 12: two batches of 8 and 4
    model = {"model_id": "x", "name": "tiny"}
    steps = list(exports.write_faces(G, reqs, tmp_path / "out", model, batch=8))
    assert steps == [(8, 12), (12, 12)]
    names = face_file_names([r.latent for r in reqs])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(names)
    for name, req in zip(names, reqs):
        exports.save(tmp_path / "one.png", G, req, model)                       # the window's Save Image
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out" / name)),
                                      np.asarray(Image.open(tmp_path / "one.png")))
        assert read_request(tmp_path / "out" / name)[0] == req                  # Open Saved Image brings it back


def test_a_face_this_model_cannot_render_writes_nothing(tmp_path):
    G = tiny_generator(16)
    reqs = [RenderImage(latent=Latent(seed=1)), RenderImage(latent=Latent(w=np.zeros(32, np.float32)))]
    with pytest.raises(UserError, match="custom w has 32 values; this model needs 16"):
        next(exports.write_faces(G, reqs, tmp_path / "out", {}))
    assert not (tmp_path / "out").exists()
    with pytest.raises(WriteError, match="a file of that name is in the way"):
        (tmp_path / "file").write_text("x")
        next(exports.write_faces(G, reqs[:1], tmp_path / "file", {}))


def test_the_engine_job_reports_and_can_be_cancelled_between_batches(eng, tmp_path):
    reqs = tuple(RenderImage(latent=Latent(seed=s)) for s in range(3))
    eng.post(m.ExportFaces(str(tmp_path / "a"), reqs))
    done = eng.rec.wait(m.JobFinished, kind="faces")
    assert done.status == "ok" and done.message == f"wrote 3 images to {tmp_path / 'a'}"
    assert eng.rec.wait(m.Saved, what="faces").path == str(tmp_path / "a")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["seed0000.png", "seed0001.png", "seed0002.png"]
    assert read_provenance(tmp_path / "a" / "seed0002.png")["model_name"] == "new model"
    many = tuple(RenderImage(latent=Latent(seed=s)) for s in range(100_000))
    eng.post(m.ExportFaces(str(tmp_path / "b"), many))
    started = eng.rec.wait(m.JobStarted, kind="faces", description="faces into b")
    eng.post(m.CancelJob(started.job_id))
    assert eng.rec.wait(m.JobFinished, job_id=started.job_id).status == "cancelled"
    assert len(list((tmp_path / "b").iterdir())) < 100_000   # what was written stays, each file whole


def test_generate_latents_writes_a_favourites_file_face_by_face(tmp_path, capsys):
    G = tiny_generator(16)
    save_model(G, tmp_path / "m.safetensors")
    w = np.random.default_rng(0).standard_normal((3, 16)).astype(np.float32)
    (tmp_path / "f.npz").write_bytes(encode_latents(w, ["seed 4", "projected me", "seed 4 (pc 1 -2σ)"]))
    out = tmp_path / "out"
    assert main(["generate", "--model", str(tmp_path / "m.safetensors"), "--latents", str(tmp_path / "f.npz"),
                 "--psi", "0.6", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote 3 images to {out}"
    assert sorted(p.name for p in out.iterdir()) == ["001-seed-4.png", "002-projected-me.png",
                                                     "003-seed-4-pc-1-2.png"]
    req = read_request(out / "002-projected-me.png")[0]
    np.testing.assert_array_equal(req.latent.w, w[1])
    assert req.settings.psi == 0.6
    for bad in (["--seeds", "1"], ["--grid", str(tmp_path / "g.png")], ["--class", "1"]):
        args = ["generate", "--model", str(tmp_path / "m.safetensors"), "--latents", str(tmp_path / "f.npz")]
        assert main(args + (bad if bad[0] == "--grid" else bad + ["--out", str(out)])) == 1
        assert capsys.readouterr().err.count("\n") == 1                         # one line each


def test_a_relative_model_path_is_recorded_absolute_and_regenerates_from_anywhere(tmp_path, monkeypatch, capsys):
    save_model(tiny_generator(16), tmp_path / "m.safetensors")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "--model", "m.safetensors", "--seeds", "5", "--out", "out"]) == 0
    assert read_provenance(tmp_path / "out" / "seed0005.png")["model_path"] == str(tmp_path / "m.safetensors")
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["generate", "--from-png", "../out/seed0005.png", "--grid", "again.png"]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open("again.png")),
                                  np.asarray(Image.open(tmp_path / "out" / "seed0005.png")))
