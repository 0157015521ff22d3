"""Official StyleGAN v1 pickles: read safely, mapped exactly, imported by the CLI and the engine."""
import numpy as np
import pytest
import torch

import official_fixtures as fx
import official_reference as ref
from stylegan_studio.engine.render import synth as ex
from stylegan_studio.engine.files.official import load_official, lod_phase
from stylegan_studio.engine.files.tfpickle import NetworkState, PickleRefused, read_pickle
from stylegan_studio.engine.train.warmstart import read_init


def as64(net) -> dict:
    return {k: np.asarray(a, np.float64) for k, a in net.vars().items()}


def assert_close(got, want, rel=1e-5):
    """Equal to within float32 rounding, relative to the output's range."""
    err, scale = np.abs(np.asarray(got, np.float64) - want).max(), np.abs(want).max()
    assert err <= rel * scale, f"max error {err:.3g} against values up to {scale:.3g}"


@pytest.fixture(scope="module")
def snap128(tmp_path_factory):
    """A 128² snapshot (the first fused up-conv resolution) and its conversion."""
    kw = fx.tiny_kwargs(128)
    nets = fx.snapshot(kw, seed=1)
    path = fx.write(tmp_path_factory.mktemp("pkl") / "network-snapshot-000140.pkl", nets)
    return kw, nets, load_official(path, training=True)


def ws_for(G, z, psi=1.0, cutoff=None):
    w = ex.map_z(G, z)
    return ex.truncate(ex.broadcast(w, G.num_ws), G.w_avg, psi, cutoff)


# ---------------------------------------------------------------- the reader
@pytest.mark.parametrize("protocol,legacy", [(4, True), (2, True), (2, False), (3, False), (4, False), (5, False)])
def test_every_array_reconstructor_reads_back_exactly(tmp_path, protocol, legacy):
    """2019 files (numpy.core._reconstruct), protocol 2 (_codecs), numpy 2 and protocol 5 (_frombuffer)."""
    nets = fx.snapshot(fx.tiny_kwargs(8), seed=protocol)
    G, D, Gs = read_pickle(fx.write(tmp_path / "s.pkl", nets, protocol, legacy))
    assert isinstance(Gs, NetworkState) and Gs.func == "G_style" and D.func == "D_basic"
    got, want = Gs.all_vars(), nets[2].vars()
    assert got.keys() == want.keys()
    for k in want:
        np.testing.assert_array_equal(got[k], want[k])
    assert Gs.static_kwargs["resolution"] == 8 and Gs.components["mapping"].static_kwargs["dlatent_broadcast"] == 4


def test_big_endian_and_fortran_arrays_keep_their_values(tmp_path):
    arr = np.asfortranarray(np.arange(12, dtype=">f4").reshape(3, 4))
    net = fx.Network("x", "G_style", {}, [("a", arr)])
    for protocol in (2, 4, 5):
        (state,) = [read_pickle(fx.write(tmp_path / f"{protocol}.pkl", net, protocol))]
        np.testing.assert_array_equal(state.own_vars()["a"], arr)


# ---------------------------------------------------------------- the mapping, against the official formulas
@pytest.mark.parametrize("res", [8, 32])
def test_generator_matches_the_official_formulas(tmp_path, res):
    kw = fx.tiny_kwargs(res)
    nets = fx.snapshot(kw, seed=res)
    G = load_official(fx.write(tmp_path / "s.pkl", nets)).G_ema
    z = np.random.RandomState(5).randn(3, kw["latent_size"])
    for psi in (1.0, 0.7):
        got = G.synthesis(ws_for(G, z, psi, 8)).numpy()
        assert_close(got, ref.G_style(as64(nets[2]), kw, z, psi, cutoff=8))


def test_fused_upconv_last_torgb_and_style_split_at_128(snap128):
    """ψ 1 and ψ 0.7 with cutoff 8, stored noise: the layers where layouts could go wrong all take part."""
    kw, nets, models = snap128
    G, v = models.G_ema, as64(nets[2])
    z = np.random.RandomState(7).randn(2, kw["latent_size"])
    for psi in (1.0, 0.7):
        assert_close(G.synthesis(ws_for(G, z, psi, 8)).numpy(), ref.G_style(v, kw, z, psi, cutoff=8))
    assert_close(G.synthesis(ws_for(G, z), noise=[None] * G.num_ws).numpy(), ref.G_style(v, kw, z, noise="zero"))


def test_a_snapshot_taken_while_growing_is_shown_at_its_lod_as_the_official_code_shows_it(tmp_path):
    kw = fx.tiny_kwargs(32)
    nets = fx.snapshot(kw, seed=4)
    synth = nets[2].state["components"]["synthesis"]
    synth.state["variables"] = [(k, np.float32(1.25) if k == "lod" else a) for k, a in synth.state["variables"]]
    models = load_official(fx.write(tmp_path / "s.pkl", nets))
    G = models.G_ema
    assert G.grown == (16, 0.75)
    assert "s.pkl was saved while growing (16² of 32²)" in read_init(tmp_path / "s.pkl").notes[-1]  # a fine-tune
    assert "(lod 1.25): shown as the official code shows it, at 16², fading in 0.75, enlarged" in models.notes[0]
    v = as64(nets[2])
    ws = ws_for(G, np.random.RandomState(3).randn(2, kw["latent_size"]))
    w64 = ws.double().numpy()
    # G_synthesis: level 16² lerps toward the upscaled 8² by clip(1.25 - 1) = 0.25; 32² only upscales (t → 1)
    low, mid = ref.synthesis(v, w64, 32, out_res=8), ref.synthesis(v, w64, 32, out_res=16)
    assert_close(G.synthesis(ws).numpy(), ref.upscale(0.75 * mid + 0.25 * ref.upscale(low)))
    assert [lod_phase(x, 32) for x in (0.0, 1.0, 3.0, 7.5, float("nan"), -1.0)] == [None, (16, 1.0), (4, 1.0),
                                                                                   (4, 1.0), None, None]


def test_lower_lod_torgb_matches(snap128):
    kw, nets, models = snap128
    G, v = models.G_ema, as64(nets[2])
    z = np.random.RandomState(8).randn(1, kw["latent_size"])
    ws = ws_for(G, z)
    want = ref.synthesis(v, ws.double().numpy(), 128, out_res=64)
    assert_close(G.synthesis(ws, res=64).numpy(), want)


def test_style_mixing_matches(snap128):
    kw, nets, models = snap128
    G, v = models.G_ema, as64(nets[2])
    za, zb = np.random.RandomState(1).randn(1, kw["latent_size"]), np.random.RandomState(2).randn(1, kw["latent_size"])
    layers = [0, 1, 2, 3]
    mixed = ex.mix(ws_for(G, za), ws_for(G, zb), layers)
    n = G.num_ws
    wa = np.repeat(ref.mapping(v, za, kw["mapping_layers"])[:, None], n, 1)
    wb = np.repeat(ref.mapping(v, zb, kw["mapping_layers"])[:, None], n, 1)
    wa[:, layers] = wb[:, layers]
    assert_close(G.synthesis(mixed).numpy(), ref.synthesis(v, wa, 128))


def test_discriminator_and_training_generator_match(snap128):
    kw, nets, models = snap128
    img = np.random.RandomState(3).randn(4, 3, 128, 128)
    with torch.no_grad():
        scores = models.D(torch.tensor(img, dtype=torch.float32)).numpy()
    assert_close(scores, ref.D_basic(as64(nets[1]), kw, img)[:, 0])
    z = np.random.RandomState(4).randn(1, kw["latent_size"])
    assert_close(models.G.synthesis(ws_for(models.G, z)).numpy(), ref.G_style(as64(nets[0]), kw, z))


@pytest.mark.parametrize("fused", [True, False])
def test_fused_scale_setting_is_honoured(tmp_path, fused):
    kw = fx.tiny_kwargs(16, fused_scale=fused)
    nets = fx.snapshot(kw, seed=3)
    G = load_official(fx.write(tmp_path / "s.pkl", nets)).G_ema
    z = np.random.RandomState(5).randn(1, kw["latent_size"])
    assert_close(G.synthesis(ws_for(G, z)).numpy(), ref.G_style(as64(nets[2]), kw, z))


def test_stored_noise_w_avg_config_and_record(snap128):
    kw, nets, models = snap128
    G, v = models.G_ema, nets[2].vars()
    cfg = models.cfg
    assert (cfg.resolution, cfg.z_dim, cfg.w_dim, cfg.mapping_layers, cfg.mapping_fmaps) == (128, 12, 10, 3, 14)
    assert (cfg.fmap_base, cfg.fmap_max, cfg.num_ws) == (128, 16, 12)
    np.testing.assert_array_equal(G.w_avg.numpy(), v["dlatent_avg"])
    np.testing.assert_array_equal(G.synthesis.stored_noise(11).numpy(), v["G_synthesis/noise11"])
    rec = models.record
    assert rec["file"] == "network-snapshot-000140.pkl" and len(rec["sha256"]) == 64
    assert rec["static_kwargs"]["resolution"] == 128 and rec["network"] == "Gs (G_style)"
    assert rec["components"]["G_mapping"]["mapping_layers"] == 3 and rec["truncation_cutoff"] == 8


# ---------------------------------------------------------------- what it refuses, in one line
def test_other_architectures_are_explained(tmp_path):
    G, D, Gs = fx.snapshot(fx.tiny_kwargs(8))
    Gs.state["build_func_name"] = "G_main"
    with pytest.raises(PickleRefused, match=r"StyleGAN2 generator \(G_main\).*G_style"):
        load_official(fx.write(tmp_path / "sg2.pkl", (G, D, Gs)))
    G, D, Gs = fx.snapshot(fx.tiny_kwargs(8))
    Gs.state["components"]["synthesis"].state["static_kwargs"]["use_noise"] = False
    with pytest.raises(PickleRefused, match="use_noise=False"):
        load_official(fx.write(tmp_path / "nonoise.pkl", (G, D, Gs)))
    G, D, Gs = fx.snapshot(fx.tiny_kwargs(8))
    del Gs.state["components"]["synthesis"].state["variables"][3]
    with pytest.raises(PickleRefused, match="variable G_synthesis/noise2 is missing"):
        load_official(fx.write(tmp_path / "hole.pkl", (G, D, Gs)))


def test_damaged_and_foreign_files_get_one_line(tmp_path):
    good = fx.dumps(fx.snapshot(fx.tiny_kwargs(8)))
    cases = {"cut.pkl": good[: len(good) // 2], "noise.pkl": bytes(range(256)) * 4, "empty.pkl": b""}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(PickleRefused) as info:
            load_official(tmp_path / name)
        assert name in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(PickleRefused, match="no such file"):
        load_official(tmp_path / "missing.pkl")
