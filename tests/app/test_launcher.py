"""The launcher's re-exec: allocator tuning for every command, passive OpenMP waits only for the window."""
import sys

import pytest

from stylegan_studio.app import main as launcher


@pytest.fixture
def execs(monkeypatch):
    """The re-execs asked for, from an untuned environment (none happens for real)."""
    if sys.platform != "linux":
        pytest.skip("the allocator tuning is Linux-only")
    for name in ("GLIBC_TUNABLES", "OMP_WAIT_POLICY", "STYLEGAN_STUDIO_NO_REEXEC"):
        monkeypatch.delenv(name, raising=False)
    calls = []
    monkeypatch.setattr(launcher.os, "execv", lambda exe, args: calls.append(args))
    return calls


@pytest.mark.parametrize("argv, passive", [([], True), (["--model", "m.safetensors"], True),
                                           (["m.safetensors"], True), (["train", "--data", "d"], False),
                                           (["generate", "--seeds", "0"], False)])
def test_reexec_environment(execs, argv, passive):
    launcher._tune_allocator(argv)
    assert execs and execs[0][3:] == argv  # [python, -m, stylegan_studio.app, *argv]
    assert launcher.os.environ["GLIBC_TUNABLES"] == launcher.MALLOC_TUNING
    assert (launcher.os.environ.get("OMP_WAIT_POLICY") == "PASSIVE") is passive


def test_scripts_reexec_themselves_with_the_window_tuning(execs):
    """bench/ and docs/screenshots/ re-exec their own script, so they time and show what the window does."""
    launcher.reexec_tuned(["take_shot.py", "model.safetensors"], window=True)
    assert execs == [[sys.executable, "take_shot.py", "model.safetensors"]]
    assert launcher.os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    execs.clear()
    launcher.reexec_tuned(["again.py"], window=True)  # tuned already: runs on, no second re-exec
    assert execs == []


def test_no_display_is_one_line_not_a_core_dump(monkeypatch, capsys):
    if sys.platform != "linux":
        pytest.skip("Linux's display variables")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert launcher.run([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("stylegan-studio: error: no display") and err.count("\n") == 1
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")            # no display needed: not refused
    assert launcher.no_display() == ""
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setenv("DISPLAY", ":99")
    assert launcher.no_display() == ""
