"""`info --model X.pkl` on StyleGAN2-ADA / StyleGAN3 pickles: networks, classes, kwargs, whether the source is NVIDIA's."""
import json

import pytest

import persist_fixtures as px
from stylegan_studio.engine.cli.main import main


@pytest.mark.parametrize("name", ["sg2ada_cond", "sg3_r"])
def test_info_describes_a_snapshot_without_building_it(name, capsys):
    path = px.NVIDIA_DATA / f"{name}.pkl"
    assert main(["info", "--model", str(path)]) == 0
    out = capsys.readouterr().out
    record = json.loads((px.NVIDIA_DATA / f"{name}.json").read_text())
    assert f"G_ema     {record['G']['class_name']}" in out and f"D         {record['D']['class_name']}" in out
    assert f"img_resolution={record['G']['init_kwargs']['img_resolution']}" in out
    assert "differs from NVIDIA's releases" in out and "note: the embedded source of" in out
    assert "torch_utils.persistence" in out and "augment_pipe None" in out


def test_info_refuses_a_hostile_pickle_in_one_line(tmp_path, capsys):
    marker = tmp_path / "marker"
    path = px.write(tmp_path / "evil.pkl", {"G_ema": px.Calls(print, f"ran {marker}")})
    assert main(["info", "--model", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "builtins.print" in err and "nothing in it was run" in err
