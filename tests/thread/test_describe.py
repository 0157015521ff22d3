"""The model in words: one description for `info` and the window's Model Info; the card beside the file."""
from stylegan_studio.engine.files.modelfile import ModelMeta
from stylegan_studio.engine.thread.describe import CARD_MAX_BYTES, card_path, describe, read_card
from helpers import tiny_generator


def test_describe_lists_provenance_config_parameters_and_layers():
    G = tiny_generator(16)
    lines = describe(G, ModelMeta(name="tiny", source="a test", kimg=1.5), G.cfg)
    assert lines[0] == "model     (not saved)" and "name      tiny" in lines and "kimg      1.5" in lines
    assert any(line.startswith("  G total") for line in lines) and lines[-1].split()[:2] == [str(G.num_ws - 1), "16²"]


def test_the_card_is_the_markdown_file_of_the_same_name_and_is_read_within_bounds(tmp_path):
    model = tmp_path / "faces.safetensors"
    assert card_path(str(model)) is None and card_path("") is None
    (tmp_path / "faces.md").mkdir()
    assert card_path(str(model)) is None                  # a folder of that name is no card
    (tmp_path / "faces.md").rmdir()
    (tmp_path / "faces.md").write_bytes(b"x" * (CARD_MAX_BYTES + 10))
    text = read_card(card_path(str(model)))
    assert text.startswith("x" * 100) and text.count("x") == CARD_MAX_BYTES and text.endswith("longer than 256 KiB)")


def test_a_live_training_model_is_described_as_the_run_s_g_ema():
    import torch
    from types import SimpleNamespace
    from stylegan_studio.engine.contract.messages import DescribeModel
    from stylegan_studio.engine.thread.commands import describe_model
    from stylegan_studio.engine.thread.model_slot import ModelSlot
    slot = ModelSlot(torch.device("cpu"))
    slot.live_G, slot.live_kimg = tiny_generator(16), 12.3456
    slot.live_source = SimpleNamespace(run_dir="runs/faces")
    events = []
    describe_model(SimpleNamespace(model=slot, emit=events.append), DescribeModel(7))
    (ev,) = events
    assert "source    training run runs/faces" in ev.lines and "kimg      12.346" in ev.lines
    assert ev.lines[0] == "model     (not saved)" and ev.card == "" and ev.request == 7


def test_the_engine_describes_an_opened_pickle_as_info_reads_it(eng, capsys):
    # The pickle's own D (72,561 parameters), not the default D its G's config would build (21.5 M)
    import persist_fixtures as px
    from stylegan_studio.engine.cli.main import main
    from stylegan_studio.engine.contract import messages as m
    pkl = px.NVIDIA_DATA / "sg2ada_uncond.pkl"
    eng.post(m.LoadModel(str(pkl)))
    eng.rec.wait(m.ModelInfo, name="sg2ada_uncond", timeout=60)
    eng.post(m.DescribeModel(3))
    ev = eng.rec.wait(m.ModelDescription, request=3, timeout=60)
    assert main(["info", "--model", str(pkl)]) == 0
    assert "\n".join(ev.lines) == capsys.readouterr().out.rstrip("\n") and ev.card == ""
    assert any(line.split() == ["D", "72,561"] for line in ev.lines)
