"""UI soak: N random user operations on the real window, real engine, tiny model; figures for docs/robustness.md.

Operations: seed ranges, paging, thumbnail clicks, mixing sources dropped and removed, layer toggles and presets,
ψ and cutoff drags, noise resamples and row modes, variation maps, saving images and latents, starting /
pausing / resuming / stopping short training runs, exporting a short video and cancelling another, opening a
damaged model and the previous one again, stepping seeds. After each operation: no exception escaped (a
sys.excepthook records them), and an operation that changes what the viewer shows must bring a new viewer
image within `deadline` seconds (its latency is recorded). RSS is sampled after every operation.

tests/app/test_soak.py runs a few hundred operations; bench/soak_window.py runs thousands and prints the figures.
"""
from __future__ import annotations

import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from stylegan_studio.app.panes.registry import Pane
from stylegan_studio.app.panes.seeds import ROLE
from stylegan_studio.engine.contract.latents import Latent


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


@dataclass
class Figures:
    """What a soak measured."""

    ops: int = 0
    unhandled: list = field(default_factory=list)      # tracebacks that escaped to sys.excepthook
    missed: list = field(default_factory=list)         # (op index, name) that showed no new image in time
    latencies: list = field(default_factory=list)      # seconds to a new viewer image, render-changing ops
    rss: list = field(default_factory=list)            # MB after each op
    errors: dict = field(default_factory=dict)         # error events shown, by first words
    error_lines: list = field(default_factory=list)    # the first few error events in full
    counts: dict = field(default_factory=dict)         # op name → times run

    def rss_growth(self, start: int = 500) -> float:
        """RSS growth from op `start` (or the middle of a shorter run) to the end, as a fraction."""
        i = min(start, len(self.rss) // 2)
        return (self.rss[-1] - self.rss[i]) / self.rss[i] if self.rss else 0.0

    def p95(self) -> float:
        return float(np.percentile(self.latencies, 95)) if self.latencies else 0.0

    def table(self) -> str:
        start = min(500, len(self.rss) // 2)
        return "\n".join([
            "| figure | value |", "|---|---:|",
            f"| operations | {self.ops} |",
            f"| unhandled errors | {len(self.unhandled)} |",
            f"| viewer deadline missed | {len(self.missed)} |",
            f"| RSS at op {start} → end (MB) | {self.rss[start]:.0f} → {self.rss[-1]:.0f} |" if self.rss else "",
            f"| RSS growth op {start} → end | {100 * self.rss_growth():.1f}% |",
            f"| render-changing ops timed | {len(self.latencies)} |",
            f"| viewer latency p50 / p95 / max (ms) | {1000 * float(np.median(self.latencies or [0])):.0f} / "
            f"{1000 * self.p95():.0f} / {1000 * max(self.latencies or [0]):.0f} |"])


class Soak:
    """Drives one MainWindow; `run(n)` performs n random operations."""

    def __init__(self, window, work: Path, data: Path, model: Path, seed: int = 0, deadline: float = 20.0) -> None:
        self.win, self.work, self.data, self.model = window, work, data, model
        self.rng = np.random.default_rng(seed)
        self.deadline = deadline
        self.fig = Figures()
        self.frames = 0
        self.saved = 0
        self.training = "idle"
        self.video_job = False
        self.runs = 0
        window.bridge.results("viewer").connect(self._frame)
        window.bridge.error.connect(self._error)
        window.bridge.saved.connect(self._saved)
        window.bridge.training_state.connect(self._train_state)
        self.damaged = work / "damaged.safetensors"
        self.damaged.write_bytes(model.read_bytes()[:5000])
        self.ops = [(1, self.seed_range), (2, self.page), (6, self.click_thumbnail), (4, self.mix_drop),
                    (2, self.mix_remove), (3, self.mix_toggle), (6, self.psi), (3, self.cutoff), (4, self.resample),
                    (2, self.noise_row), (1, self.variation), (1, self.save_image), (1, self.save_latents),
                    (4, self.step_seed), (1, self.training_op), (0.5, self.video), (0.3, self.damaged_model),
                    (2, self.undo_redo), (0.5, self.open_saved), (0.5, self.remove_favourite)]
        w = np.array([p for p, _ in self.ops], float)
        self.p = w / w.sum()

    # ------------------------------------------------------------------ bookkeeping
    def _frame(self, ev) -> None:
        if getattr(ev, "target", "viewer") == "viewer":
            self.frames += 1

    def _error(self, ev) -> None:
        key = " ".join(ev.message.split()[:4])
        if key not in self.fig.errors:
            self.fig.error_lines.append(ev.message)
        self.fig.errors[key] = self.fig.errors.get(key, 0) + 1

    def _saved(self, ev) -> None:
        self.saved += 1

    def _train_state(self, ev) -> None:
        self.training = ev.state if ev.state in ("running", "paused") else "idle"

    def _hook(self, kind, value, tb) -> None:
        self.fig.unhandled.append("".join(traceback.format_exception(kind, value, tb))[-2000:])

    def pump(self, seconds: float = 0.0, until=None) -> bool:
        """Process events for `seconds`, or until `until()` holds (False if it never did)."""
        end = time.monotonic() + (seconds if until is None else self.deadline)
        while time.monotonic() < end:
            QApplication.processEvents()
            # What the application's event loop does between events and processEvents() does not: delete the
            # widgets panes dropped with deleteLater (rebuilt per model). Without it the driver measured them
            # as RSS growth (~0.2 MB per model a pane is rebuilt for) that the real window never has.
            QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            if until is not None and until():
                return True
            time.sleep(0.001)
        return until is None

    def _close_boxes(self) -> None:
        for box in self.win.findChildren(QMessageBox):
            if box.isVisible():
                box.close()
            box.deleteLater()

    # ------------------------------------------------------------------ the run
    def run(self, n: int, progress=None) -> Figures:
        old = sys.excepthook
        sys.excepthook = self._hook
        try:
            for i in range(n):
                _, op = self.ops[self.rng.choice(len(self.ops), p=self.p)]
                before = self.frames
                t0 = time.monotonic()
                try:
                    changes = op()
                except Exception:  # noqa: BLE001 - an exception out of a slot the driver called directly
                    self._hook(*sys.exc_info())
                    changes = False
                if changes:
                    if self.pump(until=lambda: self.frames > before):
                        self.fig.latencies.append(time.monotonic() - t0)
                    else:
                        self.fig.missed.append((i, op.__name__))
                else:
                    self.pump(0.002)
                self._close_boxes()
                self.fig.ops += 1
                self.fig.counts[op.__name__] = self.fig.counts.get(op.__name__, 0) + 1
                self.fig.rss.append(rss_mb())
                if progress and (i + 1) % progress == 0:
                    print(f"  {i + 1} ops, RSS {self.fig.rss[-1]:.0f} MB, unhandled {len(self.fig.unhandled)}, "
                          f"missed {len(self.fig.missed)}", file=sys.stderr, flush=True)
            self.finish()
        finally:
            sys.excepthook = old
        return self.fig

    def finish(self) -> None:
        """Stop what is still running so the engine closes promptly."""
        if self.training != "idle":
            self.win.panes[Pane.TRAINING].buttons["Stop"].click()
            self.pump(until=lambda: self.training == "idle")
        if self.win.video_dialog is not None and self.win.video_dialog.job_id:
            self.win.video_dialog.cancel()
            self.pump(until=lambda: not self.win.video_dialog.job_id)

    # ------------------------------------------------------------------ operations (True: the viewer must change)
    def _seed(self) -> int:
        return int(self.rng.integers(0, 100000))

    def seed_range(self) -> bool:
        pane = self.win.panes[Pane.SEEDS]
        a = self._seed()
        pane.entry.setText(self.rng.choice([f"{a}-{a + int(self.rng.integers(1, 150))}", f"{a}, {a + 7}, 3-9",
                                            "nonsense", ""]))
        pane.apply_range()
        return False

    def page(self) -> bool:
        self.win.panes[Pane.SEEDS].turn(int(self.rng.choice([-1, 1])))
        return False

    def click_thumbnail(self) -> bool:
        grid = self.win.panes[Pane.SEEDS].grid
        if grid.count() == 0:
            return False
        item = grid.item(int(self.rng.integers(grid.count())))
        latent = item.data(ROLE)
        changes = latent is not None and (latent != self.win.state.latent or self.win.state.mix_with is not None)
        grid.itemClicked.emit(item)
        return bool(changes)

    def mix_drop(self) -> bool:
        pane = self.win.panes[Pane.MIXING]
        kind = str(self.rng.choice(["row", "col"]))
        pane.set_source(kind, int(self.rng.integers(0, 4)), Latent(seed=self._seed()))
        return False

    def mix_remove(self) -> bool:
        pane = self.win.panes[Pane.MIXING]
        kind = str(self.rng.choice(["row", "col"]))
        sources = pane.grid.rows if kind == "row" else pane.grid.cols
        if sources:
            pane.remove_source(kind, int(self.rng.integers(len(sources))))
        return False

    def mix_toggle(self) -> bool:
        pane = self.win.panes[Pane.MIXING]
        if self.rng.random() < 0.3:
            pane.picker.preset(str(self.rng.choice(["coarse", "middle", "fine"])))
        else:
            pane.picker.toggle(int(self.rng.integers(0, self.win.state.model.num_ws)), bool(self.rng.integers(2)))
        return False

    def psi(self) -> bool:
        slider = self.win.panes[Pane.TRUNCATION].psi
        value = int(self.rng.integers(slider.minimum(), slider.maximum() + 1))
        changed = value != slider.value()
        if self.rng.random() < 0.3:  # a drag: many values in a row, only the last must show
            for v in np.linspace(slider.value(), value, 12).astype(int):
                slider.setValue(int(v))
                QApplication.processEvents()
        slider.setValue(value)
        return changed

    def cutoff(self) -> bool:
        slider = self.win.panes[Pane.TRUNCATION].cutoff
        value = int(self.rng.integers(slider.minimum(), slider.maximum() + 1))
        slider.setValue(value)
        return False  # a cutoff may not change the image (e.g. ψ = 1)

    def resample(self) -> bool:
        noise = self.win.panes[Pane.NOISE]
        if self.rng.random() < 0.3:
            noise.resample_group(str(self.rng.choice(["fine", "coarse"])))
            return False
        noise.resample(int(self.rng.choice(sorted(noise.rows))))
        return False  # resampling a row whose strength is 0 or mode Off leaves the image as it was

    def noise_row(self) -> bool:
        noise = self.win.panes[Pane.NOISE]
        combo = noise.rows[int(self.rng.choice(sorted(noise.rows)))][0]
        combo.setCurrentIndex(int(self.rng.integers(combo.count())))
        return False

    def variation(self) -> bool:
        self.win.panes[Pane.NOISE].request_variation()
        return False

    def save_image(self) -> bool:
        before = self.saved
        self.win.save_image(str(self.work / f"img{int(self.rng.integers(5))}.png"))
        self.pump(until=lambda: self.saved > before)
        return False

    def save_latents(self) -> bool:
        pane = self.win.panes[Pane.SEEDS]
        pane.keep_current()
        if pane.favs.count() > 20:
            pane.favs.clear()
            pane.keep_current()
        pane.save_favourites(str(self.work / "favs.npz"))
        if self.rng.random() < 0.5:
            self.pump(0.05)
            pane.load_favourites(str(self.work / "favs.npz"))
        return False

    def undo_redo(self) -> bool:
        (self.win.undo if self.rng.random() < 0.6 else self.win.redo)()
        return False

    def open_saved(self) -> bool:
        saved = sorted(self.work.glob("img*.png"))
        if saved:
            self.win.open_saved_image(str(saved[int(self.rng.integers(len(saved)))]))
        return False

    def remove_favourite(self) -> bool:
        favs = self.win.panes[Pane.SEEDS].favs
        if favs.count():
            favs.remove([favs.item(int(self.rng.integers(favs.count())))])
        return False

    def step_seed(self) -> bool:
        if self.rng.random() < 0.5:
            self.win.step_seed(int(self.rng.choice([-1, 1])))
            return self.win.state.seed() is not None
        self.win.state.set_latent(Latent(seed=self._seed()))
        return True

    def training_op(self) -> bool:
        pane = self.win.panes[Pane.TRAINING]
        if self.training == "idle":
            self.runs += 1
            pane.data.setText(str(self.data))
            pane.run_dir.setText(str(self.work / f"run{self.runs}"))
            pane.resolution.setCurrentText("16")
            pane.kimg.setValue(0.05)
            pane.batch.setValue(8)
            pane.start()
            self.pump(until=lambda: self.training != "idle")
        else:
            pane.buttons[str(self.rng.choice(["Pause", "Resume", "Stop"]))].click()
        return False

    def video(self) -> bool:
        self.win.export_video_dialog()
        dlg = self.win.video_dialog
        if dlg.job_id:  # one is running: cancel it
            dlg.cancel()
            self.pump(until=lambda: not dlg.job_id)
            return False
        dlg.seeds.setText(f"{self._seed()}, {self._seed()}")
        dlg.through_favs.setChecked(self.rng.random() < 0.3)   # a walk through the favourites (needs two)
        dlg.frames.setValue(int(self.rng.integers(2, 6)))
        dlg.size.setValue(0)
        dlg.path.setText(str(self.work / "walk.gif"))
        dlg.start()
        if self.rng.random() < 0.5:  # cancel this one at once
            self.pump(until=lambda: dlg.job_id)
            dlg.cancel()
        return False

    def damaged_model(self) -> bool:
        self.win.open_model(str(self.damaged))
        self.pump(0.2)
        self.win.open_model(str(self.model))   # the previous one again
        self.pump(until=lambda: self.win.state.model is not None)
        return False
