"""The Seeds pane: a paged grid of thumbnails for a seed range, and a small latent library."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget

from ...engine.contract.errors import UserError
from ...engine.contract.latentfile import read_latents
from ...engine.contract.messages import ExportStill, LayerReady, MixFace, SaveLatents
from ...engine.contract.requests import RenderLayer, RenderSeedGrid
from ...engine.contract.latents import Latent, SpecError, format_seeds, parse_seeds
from ..qtutil import icon, save_name, to_pixmap
from .latentlist import ROLE, FavouritesList, LatentList

PAGE = 64
TARGET = "seeds"  # render target of the thumbnails


class SeedsPane(QWidget):
    """Seed range entry, class picker (class-conditional models), paging, progressive thumbnails, favourites."""

    latent_chosen = Signal(object)
    status = Signal(str)

    def __init__(self, bridge, state, thumb: int = 64) -> None:
        super().__init__()
        self.bridge, self.state, self.thumb = bridge, state, thumb
        self.seeds: tuple[int, ...] = tuple(range(PAGE))
        self.page = 0
        self.page_settings = None   # the settings the page's thumbnails were asked for with
        self.face_request, self.waiting_face = 0, None   # current_face's question to the engine, and its use
        self.entry = QLineEdit("0-63", placeholderText="e.g. 0-63 or 7, 42, 100-120")
        self.entry.returnPressed.connect(self.apply_range)
        self.prev_btn = QPushButton(icon("fa5s.chevron-left"), "")
        self.next_btn = QPushButton(icon("fa5s.chevron-right"), "")
        self.prev_btn.clicked.connect(lambda: self.turn(-1))
        self.next_btn.clicked.connect(lambda: self.turn(1))
        self.page_label = QLabel()
        # A class-conditional model maps every seed with a class: the thumbnails, the viewer and the faces
        # dragged from here follow this picker. Hidden for an unconditional model.
        self.class_label, self.class_box = QLabel("Class"), QSpinBox(minimum=0, maximum=0)
        self.class_box.setToolTip("The class this conditional model draws the seeds in")
        self.class_box.valueChanged.connect(self.state.set_class)
        self._show_class(0)
        self.channel: tuple[str, int] | None = None   # (layer, channel) shown instead of the faces
        self.faces_btn = QPushButton(icon("fa5s.user"), "Faces")
        self.faces_btn.setToolTip("Show the faces again instead of one layer channel")
        self.faces_btn.clicked.connect(lambda: self.show_channel("", -1))
        self.faces_btn.hide()
        self.grid = LatentList(thumb)
        self.grid.chosen.connect(self.latent_chosen)
        self.favs = FavouritesList(bridge, state, 40)
        self.favs.setToolTip("Faces kept for the open model (each model has its own, remembered between launches); "
                             "drag one into the mixing grid; Delete or right-click removes")
        self.favs.setMaximumHeight(76)
        self.favs.chosen.connect(self.latent_chosen)
        keep, save, load = (QPushButton(icon(i), t) for i, t in
                            (("fa5s.star", "Keep current"), ("fa5s.save", "Save…"), ("fa5s.folder-open", "Load…")))
        keep.clicked.connect(self.keep_current)
        save.clicked.connect(self.save_favourites)
        load.clicked.connect(self.load_favourites)
        top = QHBoxLayout()
        for w in (QLabel("Seeds"), self.entry, self.class_label, self.class_box, self.prev_btn, self.page_label,
                  self.next_btn, self.faces_btn):
            top.addWidget(w)
        fav_bar = QHBoxLayout()
        for w in (QLabel("Favourites"), keep, save, load):
            fav_bar.addWidget(w)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.grid, 1)
        lay.addLayout(fav_bar)
        lay.addWidget(self.favs)
        bridge.results(TARGET).connect(self.on_chunk)
        bridge.face_latent.connect(self._on_face)
        state.model_changed.connect(self.on_model)
        state.class_changed.connect(lambda _: self.request())
        state.changed.connect(self.on_state)

    def on_model(self, info) -> None:
        """The class picker shows for a class-conditional model only; then the page renders."""
        self._show_class(info.c_dim)
        self.request()

    def _show_class(self, c_dim: int) -> None:
        self.class_box.blockSignals(True)
        self.class_box.setMaximum(max(c_dim - 1, 0))
        self.class_box.setValue(self.state.label_class or 0)
        self.class_box.blockSignals(False)
        self.class_label.setText(f"Class (0–{c_dim - 1})" if c_dim > 1 else "Class")
        for w in (self.class_label, self.class_box):
            w.setVisible(c_dim > 0)

    def apply_range(self) -> None:
        """Parse the entry and show its first page."""
        try:
            self.seeds = parse_seeds(self.entry.text())
        except SpecError as exc:
            self.status.emit(str(exc))
            return
        self.page = 0
        self.request()

    def show_seeds(self, seeds: tuple[int, ...], c: int | None = None) -> None:
        """Show these seeds (in class `c` of a class-conditional model), e.g. a saved grid opened again."""
        self.choose_class(c)
        self.entry.setText(format_seeds(seeds))
        self.apply_range()

    def choose_class(self, c: int | None) -> None:
        """Draw seeds in class `c` from now on (a class this model has; None changes nothing)."""
        if c is not None and self.state.model is not None and c < self.state.model.c_dim:
            self.class_box.setValue(c)

    def turn(self, step: int) -> None:
        """Previous / next page of the range."""
        last = (len(self.seeds) - 1) // PAGE
        self.page = min(max(self.page + step, 0), last)
        self.request()

    def page_seeds(self) -> tuple[int, ...]:
        """Seeds on the current page."""
        return self.seeds[self.page * PAGE:(self.page + 1) * PAGE]

    def request(self) -> None:
        """Ask for the current page's thumbnails (placeholders appear at once)."""
        seeds = self.page_seeds()
        self.grid.clear()
        for s in seeds:
            self.grid.add_latent(self.state.seed_latent(s), str(s))
        pages = (len(self.seeds) - 1) // PAGE + 1
        self.page_label.setText(f"{self.page + 1}/{pages}")
        self.render_page()
        self.follow_viewer()

    def render_page(self) -> None:
        """Render the page's thumbnails with the current settings (the shown ones stay until new ones arrive)."""
        seeds, settings = self.page_seeds(), self.state.settings
        self.page_settings = settings
        if self.channel is not None:  # one layer channel of each face (the Layers pane picked it)
            layer, channel = self.channel
            self.bridge.submit(RenderLayer(TARGET, self.bridge.next_stamp(), tuple(self.state.seed_latent(s) for s in seeds),
                                           settings, layer=layer, mode="channel", channels=(channel,), size=self.thumb))
            return
        self.bridge.submit(RenderSeedGrid(TARGET, self.bridge.next_stamp(), seeds, settings, thumb=self.thumb, chunk=8,
                                          c=self.state.label_class))

    def on_state(self) -> None:
        """The view changed: thumbnails follow ψ, cutoff and the input transform (as the viewer, so a saved page
        matches the screen), not noise (Animate redraws it 8 times a second; at thumbnail size it barely shows),
        and the viewer's seed is the highlighted thumbnail."""
        shown = self.page_settings
        if self.state.model is not None and (shown is None or replace(self.state.settings, noise=shown.noise) != shown):
            self.render_page()
        self.follow_viewer()

    def follow_viewer(self) -> None:
        """Highlight the thumbnail of the face in the viewer (none if it is not on the page), so the arrow keys
        go on from it."""
        rows = [i for i in range(self.grid.count()) if self.grid.item(i).data(ROLE) == self.state.latent]
        self.grid.quiet = True
        if rows:
            self.grid.setCurrentRow(rows[0])
        else:
            self.grid.clearSelection()
        self.grid.quiet = False

    def show_channel(self, layer: str, channel: int) -> None:
        """Show `channel` of `layer` for every seed on the page instead of the faces (layer '': the faces)."""
        self.channel = (layer, channel) if layer else None
        self.faces_btn.setVisible(self.channel is not None)
        self.faces_btn.setToolTip(f"Showing channel {channel} of {layer} for each face; click to show the faces"
                                  if layer else "Show the faces again instead of one layer channel")
        self.request()

    def on_chunk(self, ev) -> None:
        """Fill thumbnails (faces, or one layer channel of each) as they stream in."""
        channel = isinstance(ev, LayerReady)
        for k, img in enumerate(ev.images):
            item = self.grid.item(ev.start + k)
            if item is not None:
                item.setIcon(to_pixmap(img, self.thumb))
                if channel:
                    item.setToolTip(f"{ev.layer} channel {ev.order[0]}, each face scaled to its own range")
                elif ev.preview_res:  # a large model's thumbnail stopped at a lower resolution: say so
                    item.setText(f"{item.text()} preview")
                    item.setToolTip(f"Preview, rendered up to {ev.preview_res}×{ev.preview_res}; "
                                    "click to view the full image")

    def keep_current(self) -> None:
        """Add the face in the viewer, as shown (mixed, edited), to the favourites."""
        st = self.state
        frame = st.frame[1] if st.frame is not None and st.frame[0] == st.latent else None   # the face on screen
        self.current_face(lambda latent, text: self._keep(latent, text, frame))

    def _keep(self, latent: Latent, text: str, frame) -> None:
        if self._already_kept(latent):
            return
        current = self._icon_for(latent)
        if current is None and frame is not None:  # e.g. a fractional seed, a mixed face
            current = to_pixmap(frame, 40)
        self.favs.add_latent(latent, text)
        if current is not None:
            self.favs.item(self.favs.count() - 1).setIcon(current)
        else:
            self.favs.render_icons()

    def current_face(self, use) -> None:
        """Call `use(latent, label)` with the face in the viewer as one latent: a mixed face becomes one per-layer w
        (asked of the engine; the answer comes back as FaceLatent), so it keeps, drags and renders as shown."""
        st = self.state
        if st.mix_with is None or not st.mix_layers:
            use(st.latent, st.latent.label())
            return
        if st.latent.edit is not None or st.mix_with.edit is not None:   # an edit has no per-layer w form
            self.status.emit(f"{st.latent.label()} is kept without its mixing: a face edited in Directions cannot be "
                             "kept mixed")
            use(st.latent, st.latent.label())
            return
        self.face_request += 1
        self.waiting_face = (self.face_request, use, f"{st.latent.label()} mixed with {st.mix_with.label()}")
        self.bridge.post(MixFace(st.latent, st.mix_with, st.mix_layers, self.face_request))

    def _on_face(self, ev) -> None:
        if self.waiting_face is not None and ev.request == self.waiting_face[0]:
            _, use, text = self.waiting_face
            self.waiting_face = None
            use(ev.latent, text)

    def add_favourite(self, latent: Latent, text: str, image=None) -> bool:
        """Add `latent` (e.g. a projected image's) to the favourites, with `image` [H, W, 3] as its icon; False
        (that favourite selected) when it is one already."""
        if self._already_kept(latent):
            return False
        item = self.favs.add_latent(latent, text)
        if image is not None:
            item.setIcon(to_pixmap(image, 40))
        else:
            self.favs.render_icons()
        return True

    def _already_kept(self, latent: Latent) -> bool:
        """True (the favourite selected, a status line) when `latent` is a favourite already."""
        rows = [i for i in range(self.favs.count()) if self.favs.item(i).data(ROLE) == latent]
        if rows:
            self.favs.quiet = True
            self.favs.setCurrentRow(rows[0])
            self.favs.quiet = False
            self.status.emit(f"{self.favs.item(rows[0]).text()} is a favourite already")  # by its own name
        return bool(rows)

    def _icon_for(self, lat: Latent):
        for i in range(self.grid.count()):
            if self.grid.item(i).data(ROLE) == lat:
                return self.grid.item(i).icon()
        return None

    def favourites(self) -> tuple[Latent, ...]:
        """The kept latents, in order."""
        return self.favs.latents()

    def export_page(self, path: str | None = None) -> None:
        """Save the page of thumbnails at the model's own size as one PNG with provenance (a contact sheet; Open
        Saved Image brings the range back)."""
        seeds = self.page_seeds()
        name = f"seeds{seeds[0]}-{seeds[-1]}.png" if seeds else "seeds.png"
        path = save_name(self, "Export seed page", name, "PNG (*.png)", path)
        if path and seeds:
            self.bridge.post(ExportStill(path, RenderSeedGrid(seeds=seeds, settings=self.state.settings, thumb=None,
                                                              c=self.state.label_class)))

    def save_favourites(self, path: str | None = None) -> None:
        """Write the favourites' w to an .npz (the engine maps seeds to w)."""
        if not self.favourites():
            self.status.emit("No favourites to save yet: use Keep current")
            return
        path = save_name(self, "Save latents", "latents.npz", "Latents (*.npz)", path)
        if path:
            self.bridge.post(SaveLatents(path, self.favourites()))

    def load_favourites(self, path: str | None = None) -> None:
        """Read an .npz of w (key 'w', optional 'labels') into the favourites."""
        path = path or QFileDialog.getOpenFileName(self, "Load latents", "", "Latents (*.npz)")[0]
        if not path:
            return
        try:
            ws, labels = read_latents(path)
        except UserError as exc:
            self.status.emit(str(exc))   # (the window writes it as a sentence)
            return
        model = self.state.model
        need = None if model is None else (model.num_ws, model.w_dim) if ws.ndim == 3 else (model.w_dim,)
        if need is not None and ws.shape[1:] != need:   # another model's faces: each would fail (and blank every icon)
            self.status.emit(f"{Path(path).name} holds faces of {'×'.join(map(str, ws.shape[1:]))} values; this open "
                             f"model needs {'×'.join(map(str, need))}: nothing loaded")
            return
        self.favs.add_entries([(Latent(w=w), labels[i] if i < len(labels) else f"w #{i}") for i, w in enumerate(ws)])
