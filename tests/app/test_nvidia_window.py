"""NVIDIA's StyleGAN2-ADA and StyleGAN3 fixture pickles in the real window: what the viewer shows for a seed,
class, ψ and input transform set in the panes is what NVIDIA's code rendered (within 2 levels of 255)."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from studio_window import start_window
from stylegan_studio.engine.contract.latents import Latent
from stylegan_studio.engine.files.pngio import read_provenance

NVIDIA = Path(__file__).resolve().parents[1] / "data" / "nvidia"
HAS_V3 = importlib.util.find_spec("stylegan_studio.engine.nets.stylegan3") is not None


def expected(name: str, key: str) -> np.ndarray:
    return np.load(NVIDIA / f"{name}.expected.npz")[key]


def shown(qtbot, win, action) -> np.ndarray:
    """Run `action` and return the next viewer image."""
    with qtbot.waitSignal(win.bridge.results("viewer"), timeout=60000) as sig:
        action()
    return sig.args[0].image


def close_to(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and int(np.abs(a.astype(int) - b.astype(int)).max()) <= 2


def test_a_class_conditional_stylegan2_ada_pickle_renders_nvidias_images_by_class(qtbot, tmp_path):
    win = start_window(qtbot, tmp_path, str(NVIDIA / "sg2ada_cond.pkl"), timeout_ms=120000)
    try:
        seeds = win.panes["seeds"]
        assert seeds.class_box.isVisible() and seeds.class_box.maximum() == 3
        assert "StyleGAN2" in win.model_label.text() and "4 classes" in win.model_label.text()
        assert len(win.panes["noise"].rows) == 5 and win.panes["noise"].controls.isEnabled()
        shown(qtbot, win, lambda: win.panes["truncation"].set_values(1.0, None))
        img = shown(qtbot, win, lambda: seeds.class_box.setValue(1))
        assert win.state.latent == Latent(seed=0, c=1)
        assert close_to(img, expected("sg2ada_cond", "seed0_class1_psi1_const"))
        img = shown(qtbot, win, lambda: win.panes["truncation"].set_values(0.7, None))
        assert close_to(img, expected("sg2ada_cond", "seed0_class1_psi0.7_const"))
        img = shown(qtbot, win, lambda: (seeds.class_box.setValue(3), win.step_seed(1)))
        assert close_to(img, expected("sg2ada_cond", "seed1_class3_psi0.7_const"))
        with qtbot.waitSignal(win.bridge.saved, timeout=60000):
            win.save_image(str(tmp_path / "class3.png"))
        assert read_provenance(tmp_path / "class3.png")["latent"] == {"seed": 1, "c": 3}
    finally:
        win.bridge.close()


@pytest.mark.skipif(not HAS_V3, reason="needs the StyleGAN3 networks (engine/nets/stylegan3.py)")
def test_a_stylegan3_pickle_moves_and_turns_its_input_from_the_truncation_pane(qtbot, tmp_path):
    win = start_window(qtbot, tmp_path, str(NVIDIA / "sg3_t.pkl"), timeout_ms=120000)
    try:
        trunc, noise = win.panes["truncation"], win.panes["noise"]
        assert not noise.controls.isEnabled() and "no noise inputs" in noise.none_note.text()
        assert not win.panes["seeds"].class_box.isVisible() and "StyleGAN3" in win.model_label.text()
        win.docks["truncation"].raise_()
        assert trunc.transform_box.isVisible()
        img = shown(qtbot, win, lambda: trunc.set_values(1.0, None))
        assert close_to(img, expected("sg3_t", "seed0_psi1"))
        img = shown(qtbot, win, lambda: trunc.set_transform((0.25, 0.1), -30.0))
        assert close_to(img, expected("sg3_t", "seed0_psi1_tx0.25_ty0.1_rot-30"))
        img = shown(qtbot, win, lambda: (trunc.set_transform((0.0, 0.0), 0.0), trunc.rotate.setValue(15)))
        assert close_to(img, expected("sg3_t", "seed0_psi1_tx0_ty0_rot15"))
        with qtbot.waitSignal(win.bridge.saved, timeout=60000):
            win.save_image(str(tmp_path / "turned.png"))
        prov = read_provenance(tmp_path / "turned.png")
        assert prov["rotate"] == 15.0 and tuple(prov["translate"]) == (0.0, 0.0)
    finally:
        win.bridge.close()
