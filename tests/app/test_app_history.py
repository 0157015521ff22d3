"""Edit → Undo / Redo: back and forth through the views the viewer showed (a slider drag is one step)."""
from PySide6.QtGui import QKeySequence

from stylegan_studio.app.panes.registry import Pane
from stylegan_studio.engine.contract.latents import Latent
from stylegan_studio.engine.contract.messages import NewModel
from test_app_window import window  # noqa: F401  (the fixture: a window on a real engine and a tiny model)


def settled(win, qtbot, steps):
    """Wait until the history holds `steps` views (a change is a step once it has settled)."""
    qtbot.waitUntil(lambda: len(win.history.past) == steps and not win.history.timer.isActive(), timeout=5000)


def test_undo_and_redo_step_through_the_views(window, qtbot):  # noqa: F811
    psi = window.panes[Pane.TRUNCATION].psi
    settled(window, qtbot, 1)                          # the first view
    assert not window.undo_action.isEnabled() and not window.redo_action.isEnabled()
    assert window.undo_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    assert {QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")} <= set(window.redo_action.shortcuts())   # any theme
    window.state.set_latent(Latent(seed=5), Latent(seed=9), (0, 1))
    settled(window, qtbot, 2)
    for value in range(60, 20, -5):                    # a drag of the ψ slider: one step
        psi.setValue(value)
    settled(window, qtbot, 3)
    window.panes[Pane.NOISE].resample(8)
    assert window.undo_action.isEnabled()
    window.undo_action.trigger()                       # before it settled: back from the resampled noise
    assert window.state.settings.noise.at(8).mode == "const" and window.state.settings.psi == 0.25
    window.undo_action.trigger()
    assert window.state.settings.psi == 0.7 and psi.value() == 70 and window.state.latent == Latent(seed=5)
    assert window.state.mix_with == Latent(seed=9) and window.state.mix_layers == (0, 1)
    window.undo_action.trigger()
    assert window.state.latent == Latent(seed=0) and window.state.mix_with is None
    assert not window.undo_action.isEnabled()
    window.undo()                                      # (the greyed action does nothing; the slot says so)
    assert window.statusBar().currentMessage() == "Nothing to undo" and window.state.latent == Latent(seed=0)
    window.redo_action.trigger()
    window.redo_action.trigger()
    assert window.state.settings.psi == 0.25 and psi.value() == 25 and "Forward to seed 5" in \
        window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: "ψ 0.25" in window.viewer.info.full, timeout=20000)   # the viewer shows it
    window.undo_action.trigger()
    window.state.set_latent(Latent(seed=11))           # a new step after an undo: what was undone is gone
    settled(window, qtbot, 3)
    assert not window.redo_action.isEnabled() and window.history.redo() is None


def test_another_model_starts_the_history_again(window, qtbot):  # noqa: F811
    settled(window, qtbot, 1)
    window.state.set_latent(Latent(w=[0.5] * 16))
    settled(window, qtbot, 2)
    with qtbot.waitSignal(window.bridge.model_info, timeout=20000):
        window.bridge.post(NewModel(resolution=16, channels=16, z_dim=8))   # another w_dim: that w does not fit it
    settled(window, qtbot, 1)
    assert window.history.undo() is None and not window.undo_action.isEnabled()


def test_undo_while_the_noise_animates_stops_it_back_at_the_noise_before(window, qtbot):  # noqa: F811
    noise = window.panes[Pane.NOISE]
    settled(window, qtbot, 1)
    before = window.state.settings.noise
    noise.animate.setChecked(True)
    qtbot.waitUntil(lambda: window.state.settings.noise != before, timeout=5000)   # it redraws the noise
    window.undo()
    assert not noise.animate.isChecked() and noise.rows
    assert all(window.state.settings.noise.at(r) == before.at(r) for r in noise.rows)
    assert window.statusBar().currentMessage().startswith("Noise animation stopped")
