"""Blending two models: the curve, the blended weights, refusals in one line, renders, the engine, the CLI, the card."""
import math

import numpy as np
import pytest
import torch

from helpers import tiny_generator
from stylegan_studio.engine.contract import messages as m
from stylegan_studio.engine.cli.main import main
from stylegan_studio.engine.files.modelfile import ModelMeta, read_header, save_model
from stylegan_studio.engine.nets.blend import (BlendError, blend_generators, blend_state, check_blendable,
                                               mapping_distance, relation_note)
from stylegan_studio.engine.contract.modelconfig import ModelConfig
from stylegan_studio.engine.nets.networks import Generator
from stylegan_studio.engine.render.blend_render import BlendCache, blend_rows, make_blend, render_blend, row_images
from stylegan_studio.engine.contract.blend import BlendSpec
from stylegan_studio.engine.contract.latents import RenderSettings, SpecError
from stylegan_studio.engine.thread.engine import Engine
from helpers import Recorder

SETTINGS = RenderSettings(psi=0.7)


def pair(res: int = 16):
    """A base and a different model of the same config (as if fine-tuned from it)."""
    return tiny_generator(res, seed=0), tiny_generator(res, seed=1)


# ---------------------------------------------------------------- the curve
def test_width_zero_is_a_hard_swap_at_the_chosen_resolution():
    spec = BlendSpec(16, 0)
    assert spec.weights((4, 8, 16, 32, 64)) == {4: 0.0, 8: 0.0, 16: 1.0, 32: 1.0, 64: 1.0}


def test_width_is_the_doublings_from_a_tenth_to_nine_tenths():
    one, two = BlendSpec(16, 1), BlendSpec(16, 2)
    assert one.weight(8) == pytest.approx(0.1) and one.weight(16) == pytest.approx(0.9)
    assert two.weight(8) == pytest.approx(0.25) and two.weight(16) == pytest.approx(0.75)
    assert one.weight(16 / math.sqrt(2)) == pytest.approx(0.5)   # centred between at/2 and at
    # far from the swap a layer is exactly one parent's (snapped), and the curve only ever rises
    assert one.weight(4) == 0.0 and one.weight(32) == 1.0
    for spec in (one, two, BlendSpec(8, 3.5)):
        ts = [spec.weight(2 ** (k / 4)) for k in range(8, 41)]
        assert all(a <= b for a, b in zip(ts, ts[1:])) and ts[0] < 0.5 < ts[-1]


@pytest.mark.parametrize("at, width", [(12, 1), (2, 1), (16, -1), (16, float("nan")), (16, 9)])
def test_bad_specs_are_one_line(at, width):
    with pytest.raises(SpecError) as err:
        BlendSpec(at, width)
    assert "\n" not in str(err.value)


# ---------------------------------------------------------------- the weights
def test_hard_swap_takes_each_layer_whole_from_one_parent():
    base, other = pair()
    blended = blend_state(base, other, BlendSpec(8, 0))
    theirs, mine = other.state_dict(), base.state_dict()
    seen = set()
    for name, value in blended.items():
        res = base.param_resolution(name)
        seen.add(res)
        source = mine if res is None or res < 8 else theirs
        assert torch.equal(value, source[name]), name
    assert seen == {None, 4, 8, 16}
    assert torch.equal(blended["w_avg"], base.w_avg)                     # w_avg and mapping: the base's
    assert torch.equal(blended["mapping.fcs.0.weight"], mine["mapping.fcs.0.weight"])


def test_a_smooth_blend_is_the_lerp_at_each_resolution():
    base, other = pair()
    spec = BlendSpec(8, 2)
    blended, learned = blend_state(base, other, spec), dict(base.named_parameters())
    for name, value in blended.items():
        res = base.param_resolution(name)
        if res is None:
            continue
        t = spec.weight(res)
        assert 0 < t < 1
        a, b = base.state_dict()[name], other.state_dict()[name]
        if name in learned:
            assert torch.allclose(value, a + t * (b - a), atol=1e-6), name
        else:  # stored noise: the parent with the larger share, never a variance-shrinking mix
            assert torch.equal(value, b if t >= 0.5 else a), name


def test_blends_at_the_ends_render_as_their_parents():
    base, other = pair()
    seeds = (0, 3)
    rows_low = dict(blend_rows(base, blend_generators(base, other, BlendSpec(32, 0)), other, seeds, SETTINGS, None))
    assert np.array_equal(rows_low[1], rows_low[0])            # nothing swapped: the base's faces
    all_other = blend_generators(base, other, BlendSpec(4, 0))
    rows_high = dict(blend_rows(base, all_other, other, seeds, SETTINGS, None))
    # every synthesis layer from the other model, fed the base's ws: the other's synthesis of the base's w
    G = tiny_generator(16, seed=1)
    G.mapping.load_state_dict(base.mapping.state_dict())
    G.w_avg.copy_(base.w_avg)
    assert np.array_equal(rows_high[1], row_images(G, seeds, SETTINGS, None))
    assert not np.array_equal(rows_high[1], rows_high[2]) and not np.array_equal(rows_high[1], rows_high[0])


def test_a_base_that_has_rendered_blends_like_a_fresh_one():
    # A rendered model caches its scaled weights; the blend (a copy of the base) must not render with them.
    base, other = pair()
    fresh = blend_generators(tiny_generator(16, seed=0), other, BlendSpec(4, 0))
    base.load_state_dict(base.state_dict())   # as load_model does: each weight's version counter is now 1
    row_images(base, (0, 1), SETTINGS, None)
    after = blend_generators(base, other, BlendSpec(4, 0))
    assert np.array_equal(row_images(after, (0, 1), SETTINGS, None, ws_from=base),
                          row_images(fresh, (0, 1), SETTINGS, None, ws_from=base))


def test_unrelated_models_are_flagged_and_a_fine_tune_is_not():
    base, stranger = pair()
    assert mapping_distance(base, stranger) > 1.0 and "probably not fine-tuned" in relation_note(1.0)
    tuned = tiny_generator(16, seed=0)
    with torch.no_grad():
        for p in tuned.mapping.parameters():
            p.mul_(1.001)
    assert mapping_distance(base, tuned) == pytest.approx(0.001, rel=1e-3) and relation_note(0.001) == ""


# ---------------------------------------------------------------- refusals
def small(**kw) -> Generator:
    return Generator(ModelConfig(**{**ModelConfig.small(16, 16, 16).to_dict(), **kw}))


@pytest.mark.parametrize("kw, words", [
    ({"resolution": 32}, "resolution differs (16² in the base, 32²"),
    ({"fmap_max": 8}, "synthesis layers at"),
    ({"mapping_layers": 2}, "mapping network differ"),
    ({"z_dim": 8, "w_dim": 8, "mapping_fmaps": 8}, "z size differs (16 in the base, 8"),
    ({"img_channels": 1}, "image channels differs"),
])
def test_models_that_cannot_be_blended_say_why_in_one_line(kw, words):
    with pytest.raises(BlendError) as err:
        check_blendable(small(), small(**kw))
    assert words in str(err.value) and "\n" not in str(err.value)


def test_a_different_architecture_is_refused():
    other = small()
    other.arch = "stylegan2"   # what a v2 generator reports
    with pytest.raises(BlendError, match="stylegan1 model with a stylegan2 model"):
        check_blendable(small(), other)


# ---------------------------------------------------------------- files, card, engine
@pytest.fixture
def files(tmp_path):
    base, other = pair()
    paths = tmp_path / "base.safetensors", tmp_path / "other.safetensors"
    metas = save_model(base, paths[0], ModelMeta(name="base")), save_model(other, paths[1], ModelMeta(name="other"))
    return paths, metas


def test_the_card_names_both_parents_and_every_weight(files, tmp_path):
    (pb, po), (mb, mo) = files
    base, _ = pair()
    G, meta = make_blend(base, str(pb), mb, str(po), BlendSpec(8, 1), cache=BlendCache())
    saved = save_model(G, tmp_path / "blend.safetensors", meta)
    _, card = read_header(tmp_path / "blend.safetensors")
    rec = card.blend
    assert rec["base"] == {"path": str(pb.resolve()), "model_id": mb.model_id, "name": "base"}
    assert rec["other"] == {"path": str(po.resolve()), "model_id": mo.model_id, "name": "other"}
    assert rec["at"] == 8 and rec["width"] == 1 and rec["mapping"] == "base" and rec["w_avg"] == "base"
    assert rec["resolution_weights"] == {"4": pytest.approx(0.1), "8": pytest.approx(0.9), "16": 1.0}
    assert rec["layer_weights"] == pytest.approx([0.1, 0.1, 0.9, 0.9, 1.0, 1.0])
    assert card.model_id == saved.model_id not in (mb.model_id, mo.model_id)
    assert "base + other" in card.source and rec["mapping_distance"] == pytest.approx(mapping_distance(base, pair()[1]))


def test_the_cache_rereads_a_changed_file_and_reblends(files):
    (pb, po), _ = files
    base, _ = pair()
    cache = BlendCache()
    first = cache.blend(base, str(po), BlendSpec(8, 0))[0]
    assert cache.blend(base, str(po), BlendSpec(8, 0))[0] is first
    assert cache.blend(base, str(po), BlendSpec(8, 1))[0] is not first
    save_model(tiny_generator(16, seed=2), po)
    changed = cache.blend(base, str(po), BlendSpec(8, 0))[0]
    assert not torch.equal(changed.synthesis.blocks[2].conv1.weight, first.synthesis.blocks[2].conv1.weight)


def test_the_engine_renders_three_rows_and_saves_the_blend(files, tmp_path):
    (pb, po), (mb, mo) = files
    rec = Recorder()
    engine = Engine(rec, threads=1)
    engine.start()
    try:
        engine.post(m.LoadModel(str(pb)))
        rec.wait(m.ModelInfo)
        engine.submit(m.RenderBlend("blend", 1, str(po), BlendSpec(8, 1), (0, 1, 2), SETTINGS, 32))
        done = rec.wait(m.BlendReady, done=None)
        assert done.base_images.shape == done.blend_images.shape == done.other_images.shape == (3, 32, 32, 3)
        assert done.other_name == "other" and done.other_id == mo.model_id
        assert done.weights == ((4, pytest.approx(0.1)), (8, pytest.approx(0.9)), (16, 1.0))
        assert [e.done for e in rec.of(m.BlendReady)] == [1, 2, None]
        engine.post(m.SaveBlend(str(tmp_path / "b.safetensors"), str(po), BlendSpec(8, 1)))
        assert rec.wait(m.Saved).path == str(tmp_path / "b.safetensors")
        assert read_header(tmp_path / "b.safetensors")[1].blend["base"]["model_id"] == mb.model_id
        save_model(tiny_generator(32), tmp_path / "big.safetensors")
        engine.submit(m.RenderBlend("blend", 2, str(tmp_path / "big.safetensors"), BlendSpec(8, 1), (0,), SETTINGS))
        err = rec.wait(m.ErrorEvent)
        assert err.message.startswith("cannot blend: the resolution differs") and err.source.stamp == 2
    finally:
        assert engine.close()


def test_the_renderer_refuses_a_missing_file():
    with pytest.raises(Exception, match="no such model file"):
        next(render_blend(tiny_generator(), m.RenderBlend("b", 1, "/nowhere.safetensors", BlendSpec(), (0,))))


# ---------------------------------------------------------------- the command line
def test_cli_blend_writes_the_model_its_card_and_a_preview(files, tmp_path, capsys):
    (pb, po), (mb, mo) = files
    out, preview = tmp_path / "blend.safetensors", tmp_path / "preview.png"
    assert main(["blend", "--base", str(pb), "--other", str(po), "--at", "8", "--width", "0", "--out", str(out),
                 "--preview", str(preview), "--seeds", "0-2"]) == 0
    text = capsys.readouterr().out
    assert "4² 0, 8² 1, 16² 1" in text and mo.model_id in text and "probably not fine-tuned" in text
    _, card = read_header(out)
    assert card.blend["layer_weights"] == [0, 0, 1, 1, 1, 1]
    from PIL import Image
    assert Image.open(preview).size == (3 * 16, 3 * 16)
    assert main(["info", "--model", str(out)]) == 0
    assert f"base      base (id {mb.model_id})" in capsys.readouterr().out


def test_cli_blend_refuses_in_one_line(files, tmp_path, capsys):
    (pb, _), _ = files
    big = tmp_path / "big.safetensors"
    save_model(tiny_generator(32), big)
    assert main(["blend", "--base", str(pb), "--other", str(big), "--out", str(tmp_path / "x.safetensors")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == ("stylegan-studio: error: cannot blend: the resolution differs "
                   "(16² in the base, 32² in the other model)")
    assert not (tmp_path / "x.safetensors").exists()
    for bad, text in ((["--class", "1"], "this model is unconditional"), ([], "cannot write p.jpg")):
        preview = "p.png" if bad else "p.jpg"     # what the preview would fail on is said before the model is written
        assert main(["blend", "--base", str(pb), "--other", str(pb), "--out", str(tmp_path / "x.safetensors"),
                     "--preview", str(tmp_path / preview), *bad]) == 1
        assert text in capsys.readouterr().err and not (tmp_path / "x.safetensors").exists()
    assert main(["blend", "--base", str(pb), "--other", str(big), "--at", "12", "--out", "y"]) == 1
    assert "power of two" in capsys.readouterr().err


def test_official_pickles_blend_as_parents(tmp_path, monkeypatch, capsys):
    import official_fixtures as fx
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))
    kw = fx.tiny_kwargs(16)
    a = fx.write(tmp_path / "a.pkl", fx.snapshot(kw, seed=0))
    b = fx.write(tmp_path / "b.pkl", fx.snapshot(kw, seed=1))
    out = tmp_path / "ab.safetensors"
    assert main(["blend", "--base", str(a), "--other", str(b), "--at", "8", "--width", "0", "--out", str(out)]) == 0
    card = read_header(out)[1].blend
    assert card["base"]["path"] == str(a.resolve()) and card["other"]["path"] == str(b.resolve())
    assert card["base"]["model_id"] and card["other"]["model_id"] and card["layer_weights"] == [0, 0, 1, 1, 1, 1]


@pytest.mark.parametrize("rec", [{"base": 1}, {"resolution_weights": [1, 2]}, {"width": "wide"}, "text", None])
def test_a_damaged_blend_record_is_one_line(rec):
    from stylegan_studio.engine.nets.blend import describe_blend
    assert describe_blend(rec) == ["blend     (the blend record in this file is damaged)"]
