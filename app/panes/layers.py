"""The Layers pane: what one synthesis layer computes for the face in the viewer, from the frame's own pass."""
from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from ...engine.contract.messages import ExportStill
from ...engine.contract.requests import LAYER_MODES, RenderLayer
from ..qtutil import save_name, to_pixmap

TARGET = "layers"  # render target of the view (attached to the viewer's own RenderImage)
VIEW_PX = 320      # the view's side in the pane
MODE_TEXT = {"grid": "All channels, by energy", "channel": "One channel", "rgb": "Three channels as RGB"}
ROLE = Qt.ItemDataRole.UserRole


class LayersPane(QWidget):
    """A list of the synthesis layers, a mode and channel pickers, and the chosen layer's view.

    The window attaches `live_request()` to the viewer's frame, so the view follows ψ, mixing, noise and
    directions from the same synthesis pass and never costs the viewer a second one. Clicking a channel in the
    grid picks it and shows it for the seeds in the Seeds pane (`channel_chosen`).
    """

    view_changed = Signal()              # the window re-renders the frame with the new view attached
    channel_chosen = Signal(str, int)    # layer, channel
    status = Signal(str)

    def __init__(self, bridge, state) -> None:
        super().__init__()
        self.bridge, self.state = bridge, state
        self.last = None                 # the newest LayerReady shown
        self.shown = False               # the window tells (its dock's visibility: a tab behind another is hidden)
        self.layers = QListWidget()
        self.layers.setMaximumHeight(110)
        self.layers.currentItemChanged.connect(lambda *_: (self._limit_channels(), self._changed()))
        self.mode = QComboBox()
        for mode in LAYER_MODES:
            self.mode.addItem(MODE_TEXT[mode], mode)
        self.mode.currentIndexChanged.connect(self._changed)
        # RGB starts at channels 0, 1, 2 (a maximum of 0 here clamped all three to 0: a grey picture); the open
        # layer's channel count limits them later
        self.chans = [QSpinBox(minimum=0, maximum=65535, value=k) for k in range(3)]
        for spin, colour in zip(self.chans, ("red", "green", "blue")):
            spin.setToolTip(f"Channel shown (RGB mode: in {colour})")
            spin.valueChanged.connect(self._changed)
        self.view = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        # Half the enlarged side at least: more and the channel row pushed Save view… out of the first-launch dock.
        self.view.setMinimumSize(VIEW_PX // 2, VIEW_PX // 2)
        self.view.setStyleSheet("background: #202124;")
        self.view.mousePressEvent = self._clicked
        self.caption = QLabel(wordWrap=True)
        self.caption.setStyleSheet("color: #777;")
        save = QPushButton("Save view…")
        save.clicked.connect(lambda: self.save_view())
        row = QHBoxLayout()
        row.addWidget(self.mode)
        row.addStretch(1)
        picks = QHBoxLayout()
        self.chan_label = QLabel("Channel")
        picks.addWidget(self.chan_label)
        for spin in self.chans:
            picks.addWidget(spin)
        picks.addStretch(1)
        self.none_note = QLabel("This model lists no layers to look inside (only StyleGAN v1 models do so far).",
                                wordWrap=True)
        self.none_note.hide()
        self.controls = (self.layers, self.mode, *self.chans, self.view, save)
        lay = QVBoxLayout(self)
        lay.addWidget(self.none_note)
        lay.addWidget(self.layers)
        lay.addLayout(row)
        lay.addLayout(picks)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.caption)
        lay.addWidget(save, 0, Qt.AlignmentFlag.AlignRight)
        state.model_changed.connect(self.on_model)
        bridge.results(TARGET).connect(self.on_view)
        self._show_pickers()

    # ---------------------------------------------------------------- the request
    def layer(self) -> str:
        """The chosen layer's name ('' before a model is open)."""
        item = self.layers.currentItem()
        return item.data(ROLE) if item is not None else ""

    def view_request(self, stamp: int = 0, latents: tuple = ()) -> RenderLayer | None:
        """The chosen view as a request (None without a layer); `latents` empty: the face in the viewer."""
        if not self.layer():
            return None
        mode = self.mode.currentData()
        n = {"grid": 0, "channel": 1, "rgb": 3}[mode]
        return RenderLayer(TARGET, stamp, latents=latents, settings=self.state.settings, layer=self.layer(), mode=mode,
                           channels=tuple(s.value() for s in self.chans[:n]), size=VIEW_PX if n else None)

    def live_request(self, stamp: int) -> RenderLayer | None:
        """What the viewer's frame should carry for this pane: its view while the pane is shown, else None."""
        return self.view_request(stamp) if self.shown else None

    def set_shown(self, shown: bool) -> None:
        """Its dock became visible (shown, its tab raised) or not: a pane out of sight costs the frame nothing."""
        self.shown = bool(shown)
        if self.shown:
            self.view_changed.emit()

    def show_view(self, layer: str, mode: str, channels: tuple[int, ...]) -> bool:
        """Choose a view (e.g. a saved one opened again); False when the model has no layer of that name."""
        rows = [r for r in range(self.layers.count()) if self.layers.item(r).data(ROLE) == layer]
        if not rows:
            return False
        for w in (self.layers, self.mode, *self.chans):
            w.blockSignals(True)
        self.layers.setCurrentRow(rows[0])
        self._limit_channels()
        self.mode.setCurrentIndex(self.mode.findData(mode))
        for spin, channel in zip(self.chans, channels):
            spin.setValue(channel)
        for w in (self.layers, self.mode, *self.chans):
            w.blockSignals(False)
        self._changed()
        return True

    def _changed(self) -> None:
        self._show_pickers()
        self.view_changed.emit()

    def _show_pickers(self) -> None:
        n = {"grid": 0, "channel": 1, "rgb": 3}[self.mode.currentData()]
        self.chan_label.setVisible(n > 0)
        self.chan_label.setText("Channel" if n == 1 else "Channels")
        for k, spin in enumerate(self.chans):
            spin.setVisible(k < n)

    # ---------------------------------------------------------------- model and results
    def on_model(self, info) -> None:
        """Fill the layer list (name, resolution, channels), keeping the chosen layer where the model has it."""
        keep = self.layer()
        self.layers.blockSignals(True)
        self.layers.clear()
        for name, res, ch in info.feature_layers:
            item = QListWidgetItem(f"{name}   {res}²   {ch} channels")
            item.setData(ROLE, name)
            item.setData(ROLE + 1, ch)
            self.layers.addItem(item)
        names = [n for n, _, _ in info.feature_layers]
        if names:
            pick = names.index(keep) if keep in names else min(len(names) - 1, 5)  # 16x16/conv1 on a v1 model
            self.layers.setCurrentRow(pick)
        self.layers.blockSignals(False)
        self._limit_channels()
        self.none_note.setVisible(not names)   # an arch without feature_layers: say so, grey the controls
        for w in self.controls:
            w.setEnabled(bool(names))

    def _limit_channels(self) -> None:
        item = self.layers.currentItem()
        top = max(0, (item.data(ROLE + 1) if item is not None else 1) - 1)
        for spin in self.chans:
            spin.blockSignals(True)
            spin.setMaximum(top)
            spin.blockSignals(False)

    def on_view(self, ev) -> None:
        """Show a LayerReady of the viewer's face."""
        if ev.layer != self.layer():
            return  # an older view, asked for before the layer changed
        self.last = ev
        what = "whole layer" if ev.mode == "grid" else "shown channels"
        self.caption.setText(f"{ev.layer} · {ev.channels} channels · values {ev.lo:.3g} … {ev.hi:.3g} ({what}); "
                             "each channel scaled to its own range" +
                             (" · click a channel to pick it" if ev.mode == "grid" else ""))
        self.layout().activate()   # the caption may take two lines: the view's room is measured after that
        self.view.setPixmap(to_pixmap(ev.images[0], self._side(ev.images[0].shape[1])))

    def _side(self, w: int) -> int:
        """The displayed side: the view's room (enlarged with nearest neighbour: cells stay crisp)."""
        return max(64, min(self.view.width(), self.view.height(), VIEW_PX * 2))

    def _clicked(self, event) -> None:
        """A click on a grid tile picks that channel and shows it for the Seeds pane's faces."""
        ev, pix = self.last, self.view.pixmap()
        if ev is None or pix is None or pix.isNull() or ev.mode != "grid":
            return
        scale = ev.images[0].shape[1] / pix.width()
        left = (self.view.width() - pix.width()) / 2
        top = (self.view.height() - pix.height()) / 2
        pos = event.position()
        channel = ev.channel_at(int((pos.x() - left) * scale), int((pos.y() - top) * scale))
        if channel is not None:
            self.pick_channel(channel)

    def pick_channel(self, channel: int) -> None:
        """Choose `channel` for the one-channel view and show it for the Seeds pane's faces."""
        self.chans[0].setValue(channel)
        self.channel_chosen.emit(self.layer(), channel)
        self.status.emit(f"Channel {channel} of {self.layer()}: shown for the faces in the Seeds pane")

    def save_view(self, path: str | None = None) -> None:
        """Save the view of the face in the viewer as a PNG with provenance."""
        req = self.view_request(latents=(self.state.latent,))
        if req is None:
            return
        req = dataclasses.replace(req, mix_with=self.state.mix_with, mix_layers=self.state.mix_layers)  # as shown
        path = save_name(self, "Save layer view", f"{self.layer().replace('/', '-')}.png", "PNG (*.png)", path)
        if path:
            self.bridge.post(ExportStill(path, req))
