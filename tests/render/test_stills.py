"""Still exports: one provenance format for every kind, regenerated exactly by `generate --from-png`."""
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from helpers import tiny_generator
from stylegan_studio.app.state import ExploreState
from stylegan_studio.engine.render import exports
from stylegan_studio.engine.cli.main import build_parser, main
from stylegan_studio.engine.files.modelfile import read_header, save_model
from stylegan_studio.engine.files.pngio import read_provenance
from stylegan_studio.engine.files.provenance import model_record, record, spec_from
from stylegan_studio.engine.contract.latents import DEFAULT_PSI, Edit, Latent, NoiseSpec, RenderSettings, ResNoise
from stylegan_studio.engine.contract.requests import (RenderEditGrid, RenderFigure, RenderImage, RenderInterpolation,
                                                     RenderMixGrid, RenderSeedGrid, RenderTruncationStrip,
                                                     RenderVariation)

W = np.linspace(-1, 1, 16).astype(np.float32)
SETTINGS = RenderSettings(psi=0.6, cutoff=4, noise=NoiseSpec.parse("const; 8:random#3x0.5; 16:zero"))
SPECS = [
    RenderImage(latent=Latent(seed=5), settings=SETTINGS),
    RenderImage(latent=Latent(w=W), settings=SETTINGS),                     # a favourite or a projected image
    RenderImage(latent=Latent(seed=5), settings=SETTINGS, mix_with=Latent(seed=9), mix_layers=(0, 1, 2)),
    RenderImage(latent=Latent(w=W), settings=SETTINGS, mix_with=Latent(w=-W), mix_layers=(4, 5), size=24),
    RenderSeedGrid(seeds=(1, 2, 3), settings=SETTINGS, thumb=None, cols=2),
    RenderMixGrid(rows=(Latent(seed=1), Latent(w=W)), cols=(Latent(seed=2),), layers=(0, 1), settings=SETTINGS,
                  thumb=None),
    RenderFigure(name="truncation", seeds=(0, 1)),
    RenderVariation(latent=Latent(seed=3), settings=SETTINGS, mix_with=Latent(seed=4), mix_layers=(0,), draws=4,
                    seed=2),
    RenderTruncationStrip(latent=Latent(w=W), settings=SETTINGS, psis=(1.0, 0.0, -1.0), thumb=None),
    RenderTruncationStrip(latent=Latent(seed=2), settings=SETTINGS, psis=(1.0, 0.5), thumb=None, mix_with=Latent(w=W),
                          mix_layers=(0, 1)),                          # the viewer's face mixed
    RenderImage(latent=Latent(seed=5, edit=Edit(tuple((W * 0.7).tolist()), (0, 1, 2), "pc0 +2σ")), settings=SETTINGS,
                mix_with=Latent(seed=9), mix_layers=(5,)),                # a face edited in the Directions pane
    RenderTruncationStrip(latent=Latent(seed=2, edit=Edit(tuple((-W).tolist()), (4, 5), "x")), settings=SETTINGS,
                          psis=(1.0, 0.0), thumb=None),
    RenderEditGrid(latents=(Latent(seed=1), Latent(w=W)), direction=tuple((W / np.linalg.norm(W)).tolist()),
                   sigma=0.8, amounts=(-2.0, 0.0, 2.5), layers=(2, 3, 4, 5), name="pc1", settings=SETTINGS),
    RenderInterpolation(start=Latent(seed=1), end=Latent(w=W), steps=4, settings=SETTINGS, thumb=None),
    RenderInterpolation(start=Latent(seed=1), end=Latent(seed=3), steps=3, settings=SETTINGS, thumb=None,
                        mix_with=Latent(w=W), mix_layers=(0, 1)),     # from a face mixed in the viewer
    RenderMixGrid(rows=(Latent(seed=1),), cols=(Latent(seed=2),), layers=(0,), settings=SETTINGS, thumb=12),
]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "tiny.safetensors"
    save_model(tiny_generator(16), path)
    return path


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.kind)
def test_every_spec_survives_its_record(spec):
    rec = record(spec, model_record("id", "name", "m.safetensors"))
    assert spec_from(rec) == spec and rec["kind"] == spec.kind


def test_version_1_records_still_regenerate():
    old = {"app": "stylegan-studio", "provenance_version": 1, "kind": "image", "seeds": [42], "psi": 0.5,
           "cutoff": None, "noise": "const", "model_id": "x"}
    assert spec_from(old) == RenderImage(latent=Latent(seed=42), settings=RenderSettings(psi=0.5))
    mix = dict(old, kind="mix", rows=[1], cols=[{"seed": 2}], layers=[0])
    assert spec_from(mix) == RenderMixGrid(rows=(Latent(seed=1),), cols=(Latent(seed=2),), layers=(0,),
                                           settings=RenderSettings(psi=0.5), thumb=None)


def test_version_2_records_of_still_specs_read_into_requests():
    # Before requests and still specs were one, an image named its mixed layers `layers`, and grids, mixes and
    # strips were saved at the model's size.
    base = {"app": "stylegan-studio", "provenance_version": 2, "psi": 0.5, "cutoff": None, "noise": "const"}
    image = dict(base, kind="image", latent={"seed": 5}, mix_with={"seed": 9}, layers=[0, 1], size=None)
    assert spec_from(image) == RenderImage(latent=Latent(seed=5), settings=RenderSettings(psi=0.5),
                                           mix_with=Latent(seed=9), mix_layers=(0, 1))
    noise = dict(base, kind="noise-map", latent={"seed": 3}, mix_with=None, layers=[], draws=4, seed=2)
    assert spec_from(noise) == RenderVariation(latent=Latent(seed=3), settings=RenderSettings(psi=0.5), draws=4, seed=2)
    grid = dict(base, kind="grid", seeds=[1, 2], cols=2)
    assert spec_from(grid) == RenderSeedGrid(seeds=(1, 2), settings=RenderSettings(psi=0.5), thumb=None, cols=2)
    strip = dict(base, kind="truncation-strip", latent={"seed": 1}, psis=[1.0, 0.0])
    assert spec_from(strip).thumb is None


def test_a_record_leaves_out_the_windows_slot_and_order():
    rec = record(RenderImage("viewer", 41, latent=Latent(seed=1)), model_record("id", "name", "m.safetensors"))
    assert "target" not in rec and "stamp" not in rec and rec["mix_layers"] == []


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.kind)
def test_from_png_regenerates_every_kind_exactly(spec, model, tmp_path):
    G = tiny_generator(16)
    saved = tmp_path / "saved.png"
    exports.save(saved, G, spec, model_record(read_header(model)[1].model_id, "tiny", model))
    out = tmp_path / ("again" if spec.kind == "image" else "again.png")
    assert main(["generate", "--from-png", str(saved), "--out", str(out)]) == 0
    again = next(out.iterdir()) if out.is_dir() else out
    np.testing.assert_array_equal(np.asarray(Image.open(saved)), np.asarray(Image.open(again)))
    assert spec_from(read_provenance(again)) == spec


@pytest.mark.parametrize("spec", [SPECS[0], SPECS[4]], ids=lambda s: s.kind)
def test_from_png_writes_to_the_grid_file_it_is_given(spec, model, tmp_path):
    """A user run: `generate --from-png X.png --grid g.png` ignored --grid for a single image."""
    saved = tmp_path / "saved.png"
    exports.save(saved, tiny_generator(16), spec, model_record(read_header(model)[1].model_id, "tiny", model))
    assert main(["generate", "--from-png", str(saved), "--grid", str(tmp_path / "g.png")]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(saved)), np.asarray(Image.open(tmp_path / "g.png")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.png", "saved.png"]


def test_a_mixed_image_is_not_the_unmixed_one(model, tmp_path):
    G = tiny_generator(16)
    plain, mixed = exports.images(G, [RenderImage(latent=Latent(seed=5)), RenderImage(latent=Latent(seed=5))]), \
        exports.image(G, RenderImage(latent=Latent(seed=5), mix_with=Latent(seed=9), mix_layers=(0, 1, 2, 3)))
    assert not np.array_equal(plain[0], mixed)


def test_one_default_psi_everywhere():
    parser = build_parser()
    for argv in (["generate", "--seeds", "1"], ["mix", "--rows", "1", "--cols", "2", "--out", "x"],
                 ["video", "--out", "x.mp4"], ["figure", "noise", "--out", "x"]):
        assert parser.parse_args(argv).psi == DEFAULT_PSI == 0.7
    assert ExploreState().settings.psi == DEFAULT_PSI
    sub = parser._subparsers._group_actions[0].choices["generate"]
    assert "default 0.7" in sub.format_help()


@pytest.mark.parametrize("rec, text", [
    ({"app": "stylegan-studio", "provenance_version": 2, "kind": "image", "latent": {"seed": 1}}, "damaged"),
    ({"app": "stylegan-studio", "provenance_version": 2, "kind": "video"}, "cannot be regenerated"),
    ({"app": "another tool"}, "no stylegan-studio provenance"),
])
def test_unusable_provenance_is_one_line(rec, text, model, tmp_path, capsys):
    from stylegan_studio.engine.files.pngio import save_png
    path = tmp_path / "x.png"
    save_png(path, np.zeros((4, 4, 3), np.uint8), {**rec, "model_path": str(model)})
    assert main(["generate", "--from-png", str(path), "--model", str(model)]) == 1
    err = capsys.readouterr().err.strip()
    assert text in err and "\n" not in err


def test_a_mixed_face_as_one_latent_renders_as_the_mix_at_any_psi():
    from stylegan_studio.engine.contract.errors import UserError
    from stylegan_studio.engine.render.renderer import mixed_latent
    G = tiny_generator(16)
    row, col, layers = Latent(seed=12), Latent(w=W), (0, 1, 4)
    face = mixed_latent(G, row, col, layers)
    assert face.per_layer and face.w.shape == (G.num_ws, G.w_dim)
    for settings in (RenderSettings(psi=1.0), SETTINGS, RenderSettings(psi=-0.5, cutoff=2)):
        np.testing.assert_array_equal(exports.image(G, RenderImage(latent=face, settings=settings)),
                                      exports.image(G, RenderImage(latent=row, settings=settings, mix_with=col,
                                                                   mix_layers=layers)))
    with pytest.raises(UserError, match="edited"):
        mixed_latent(G, Latent(seed=1, edit=Edit(tuple(W.tolist()), (0,), "x")), col, layers)
    with pytest.raises(UserError, match="this model needs"):
        mixed_latent(G, row, Latent(w=np.ones(7, np.float32)), layers)


def test_an_interpolation_starts_at_the_mixed_face_the_viewer_shows():
    G = tiny_generator(16)
    strip = RenderInterpolation(start=Latent(seed=12), end=Latent(seed=3), steps=3, settings=SETTINGS, thumb=None,
                                mix_with=Latent(seed=40), mix_layers=(0, 1, 2))
    first = exports.interpolation(G, strip)[:, :16]
    shown = exports.image(G, RenderImage(latent=Latent(seed=12), settings=SETTINGS, mix_with=Latent(seed=40),
                                         mix_layers=(0, 1, 2)))
    np.testing.assert_array_equal(first, shown)
    assert not np.array_equal(first, exports.image(G, RenderImage(latent=Latent(seed=12), settings=SETTINGS)))


def test_a_psi_strip_of_a_mixed_face_shows_it_at_each_psi():
    G = tiny_generator(16)
    strip = exports.export(G, RenderTruncationStrip(latent=Latent(seed=12), settings=SETTINGS, psis=(1.0, 0.2),
                                                    thumb=None, mix_with=Latent(seed=40), mix_layers=(0, 1, 2)),
                           model_record("id", "n", "m"))[0]
    for k, psi in enumerate((1.0, 0.2)):
        shown = exports.image(G, RenderImage(latent=Latent(seed=12), settings=replace(SETTINGS, psi=psi),
                                             mix_with=Latent(seed=40), mix_layers=(0, 1, 2)))
        np.testing.assert_array_equal(strip[:, k * 18:k * 18 + 16], shown)
