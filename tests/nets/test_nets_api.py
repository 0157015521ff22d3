"""The generator interface (engine/nets/api.py) and the registry: v1 satisfies it, and only nets/ knows v1's classes."""
import ast
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save as st_save

from helpers import tiny_generator
from stylegan_studio.engine.files.bundled import BUNDLED_MODEL
from stylegan_studio.engine.files.modelfile import ModelFileError, load_model, read_header, save_model
from stylegan_studio.engine.nets import registry
from stylegan_studio.engine.nets.api import GeneratorNet
from stylegan_studio.engine.contract.modelconfig import ConfigError, ModelConfig
from stylegan_studio.engine.nets.networks import Discriminator, Generator
from stylegan_studio.engine.contract.latents import Latent, layer_ranges

ROOT = Path(__file__).resolve().parents[2]
V1_MODULES = ("networks", "layers")  # the modules holding StyleGAN v1's classes


def test_a_v1_generator_satisfies_the_interface():
    G = tiny_generator(32)
    assert isinstance(G, GeneratorNet) and G.arch == "stylegan1" and G.c_dim == 0 and not G.has_input_transform
    assert (G.z_dim, G.w_dim, G.img_resolution, G.img_channels, G.num_ws) == (16, 16, 32, 3, 8)
    assert G.ws_resolutions == (4, 4, 8, 8, 16, 16, 32, 32) and G.ws_labels[2:4] == ("8²", "8²")
    assert G.noise_resolutions == G.ws_resolutions and G.output_resolutions == (4, 8, 16, 32)
    for i, r in enumerate(G.noise_resolutions):
        assert G.stored_noise(i).shape == (1, 1, r, r)
    w = G.mapping(torch.randn(3, G.z_dim), None)
    assert w.shape == (3, G.w_dim) and G.w_avg.shape == (G.w_dim,)
    ws = w.unsqueeze(1).repeat(1, G.num_ws, 1)
    assert G.synthesis(ws).shape == (3, 3, 32, 32)
    off = G.synthesis(ws, [None] * len(G.noise_resolutions))
    assert not torch.equal(off, G.synthesis(ws))  # the tiny G's noise strengths are non-zero: None turns it off
    assert G.synthesis(ws, res=16).shape == (3, 3, 16, 16)
    assert G.style_weights(5).shape == (2 * G.cfg.channels(16), G.w_dim) and G.image_macs(16) < G.image_macs()
    with pytest.raises(ValueError, match="unconditional"):
        G.mapping(torch.randn(1, G.z_dim), torch.ones(1, 3))
    with pytest.raises(TypeError, match="no input transform"):
        G.set_input_transform(1.0, 0.0, 0.0)


def test_param_resolution_names_each_synthesis_parameter():
    G = tiny_generator(32)
    for name, t in G.state_dict().items():
        r = G.param_resolution(name)
        if name.startswith("synthesis."):
            assert r in G.output_resolutions, name
            if "noise_const" in name or name.endswith("const"):
                assert t.shape[-1] == r, name
        else:
            assert r is None, name
    assert G.param_resolution("synthesis.blocks.3.conv1.weight") == 32


def test_layer_ranges_follow_the_ws_resolutions():
    assert layer_ranges(tiny_generator(32).ws_resolutions) == {"coarse": (0, 1, 2, 3), "middle": (4, 5, 6, 7), "fine": ()}
    assert layer_ranges((4, 4, 4, 8, 8, 16, 32, 64, 128)) == {"coarse": (0, 1, 2, 3, 4), "middle": (5, 6),
                                                              "fine": (7, 8)}


def test_the_registry_builds_what_the_old_constructors_did():
    cfg = ModelConfig.small(16, 16, 16)
    G = registry.generator_from_config("stylegan1", cfg.to_dict())
    assert type(G) is Generator and G.cfg == cfg and registry.arch_of(cfg) == "stylegan1"
    with pytest.raises(ConfigError, match="unknown model architecture"):
        registry.generator_from_config("stylegan9", cfg.to_dict())
    # a training run's networks: the same random stream as torch.manual_seed(seed); Generator(); Discriminator()
    G, D = registry.new_networks(cfg, cfg, seed=5)
    torch.manual_seed(5)
    G0, D0 = Generator(cfg), Discriminator(cfg)
    for a, b in ((G, G0), (D, D0)):
        assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert registry.can_train("stylegan1")


def test_new_generator_is_seeded_and_centred():
    cfg = ModelConfig.small(16, 16, 16)
    a, b = registry.new_generator(cfg, 3), registry.new_generator(cfg, 3)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not a.training and not any(p.requires_grad for p in a.parameters())
    z = torch.randn(registry.W_AVG_SAMPLES, cfg.z_dim, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(a.w_avg, a.mapping(z).mean(0))


def _rewrite_header(path: Path, change) -> None:
    with safe_open(str(path), framework="pt") as f:
        header, tensors = dict(f.metadata()), {k: f.get_tensor(k) for k in f.keys()}
    change(header)
    path.write_bytes(st_save(tensors, metadata=header))


def test_model_files_record_the_arch_and_old_files_open_as_stylegan1(tmp_path):
    G = tiny_generator(16)
    path = tmp_path / "m.safetensors"
    save_model(G, path)
    with safe_open(str(path), framework="pt") as f:
        assert f.metadata()["arch"] == "stylegan1"
    _rewrite_header(path, lambda h: h.pop("arch"))  # a file written before the registry
    H, _ = load_model(path)
    assert H.arch == "stylegan1" and torch.equal(H.synthesis(H.w_avg.expand(1, H.num_ws, -1)),
                                                 G.synthesis(G.w_avg.expand(1, G.num_ws, -1)))
    _rewrite_header(path, lambda h: h.update(arch="stylegan7"))
    for read in (read_header, load_model):
        with pytest.raises(ModelFileError, match="stylegan7 model, an architecture this studio cannot open"):
            read(path)


def test_every_committed_model_file_still_opens():
    models = sorted((ROOT / "resources" / "models").glob("*.safetensors"))
    assert BUNDLED_MODEL in models
    for path in models:  # written before model files recorded their arch
        G, meta = load_model(path)
        assert isinstance(G, GeneratorNet) and G.arch == "stylegan1" and meta.model_id, path


def _v1_imports(path: Path) -> list[str]:
    """The v1 network modules (nets.networks, nets.layers) a file imports, as dotted names from the project root."""
    package = list(path.relative_to(ROOT).parts[:-1])  # e.g. ["engine", "render"]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            mods = [base + (node.module or "").split(".")] if node.module else [base]
            mods = [m + [a.name] for m in mods for a in node.names] + mods  # `from ..nets import networks`
        elif isinstance(node, ast.Import):
            mods = [a.name.split(".") for a in node.names]
        else:
            continue
        found += [".".join(m) for m in mods if len(m) >= 2 and m[-2] == "nets" and m[-1] in V1_MODULES]
    return found


def test_nothing_above_nets_names_the_v1_classes():
    """Only nets/ (its registry included) imports StyleGAN v1's modules; the rest goes through the interface."""
    offenders = {}
    for folder in ("engine", "app"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.is_relative_to(ROOT / "engine" / "nets"):
                continue
            hits = _v1_imports(path)
            if hits:
                offenders[str(path.relative_to(ROOT))] = hits
    assert not offenders, f"above nets/, these import StyleGAN v1's networks directly: {offenders}"
    # the scan sees a real import: the registry's own
    assert _v1_imports(ROOT / "engine" / "nets" / "registry.py") == ["engine.nets.networks"]
    assert _v1_imports(ROOT / "bench" / "synthetic.py") == ["stylegan_studio.engine.nets.networks"]


def test_drive_stops_only_between_whole_minibatches_and_snapshots(tmp_path, monkeypatch):
    """The one training loop (cli train and the engine's TrainingJob): a stop finishes the minibatch, then snapshots."""
    from helpers import make_folder, tiny_cfg
    from stylegan_studio.engine.train.run import Drive, TrainingRun
    monkeypatch.setenv("STYLEGAN_STUDIO_CACHE", str(tmp_path / "cache"))
    run = TrainingRun(tiny_cfg(make_folder(tmp_path / "data", n=16), total_kimg=1.0), tmp_path / "r")
    seen = []
    drive = Drive(run, lambda: bool(seen))  # asked to stop once the first update (half a minibatch) is in
    for update in drive:
        seen.append(update)
    assert [u.partial for u in seen] == [True, False] and run.kimg == pytest.approx(0.008)
    assert drive.end.status == "stopped" and drive.end.snapshot == str(run.files.snapshots()[-1])
    short = TrainingRun(tiny_cfg(make_folder(tmp_path / "data2", n=16), total_kimg=0.016), tmp_path / "r2")
    drive = Drive(short, lambda: False)
    assert len(list(drive)) > 2 and short.kimg >= 0.016
    assert drive.end.status == "finished" and drive.end.snapshot == str(short.files.snapshots()[-1])


def test_another_architecture_is_one_class_and_one_registration(tmp_path, monkeypatch, capsys):
    """A registered arch opens, renders and describes itself through the interface; without a D it is not trained."""
    from dataclasses import dataclass

    from stylegan_studio.engine.cli.main import main
    from stylegan_studio.engine.contract.errors import UserError
    from stylegan_studio.engine.contract.requests import RenderImage
    from stylegan_studio.engine.render.exports import image
    from stylegan_studio.engine.contract.latents import RenderSettings
    from stylegan_studio.engine.train.warmstart import read_init

    @dataclass(frozen=True)
    class OtherConfig(ModelConfig):
        """A config type of its own (the registry finds an arch by its config's type)."""

    class OtherGenerator(Generator):
        arch = "other"

    monkeypatch.setitem(registry.ARCHS, "other", (OtherConfig, OtherGenerator, None))
    G = registry.new_generator(OtherConfig.small(16, 16, 16), 1)
    path = tmp_path / "other.safetensors"
    save_model(G, path)
    H, _ = load_model(path)
    assert type(H) is OtherGenerator and isinstance(H, GeneratorNet)
    assert image(H, RenderImage(latent=Latent(seed=0), settings=RenderSettings())).shape == (16, 16, 3)
    with pytest.raises(UserError, match="is a other model: fine-tuning it with train --init is not supported yet"):
        read_init(path)
    assert main(["info", "--model", str(path)]) == 0
    assert "  D               -" in capsys.readouterr().out
