"""The main window: wires the viewer, the five panes, menus, status bar and settings together."""
from __future__ import annotations

import html
import importlib.metadata
import random
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QLabel, QMainWindow, QMenu, QMessageBox,
                               QScrollArea, QTabBar)

from ..engine.contract.messages import ExportStill, LoadModel, SaveTravelPath
from ..engine.contract.latents import SEED_ROW, Latent, seed_position
from ..engine.contract.modelconfig import ARCH_NAMES
from ..engine.contract.requests import FIGURES, RenderFigure, RenderImage
from .bridge import bundled_model_path
from .dialogs.blend import BlendDialog
from .dialogs.export_faces import ExportFacesDialog
from .dialogs.export_video import ExportVideoDialog
from .dialogs.measure_fid import MeasureFidDialog
from .dialogs.model_info import ModelInfoDialog
from .dialogs.project_image import ProjectImageDialog, is_image_path
from .panes.registry import PANES, Pane
from .qtutil import Squeezable, icon, save_name, sentence, to_pixmap
from .history import History
from .panes.latentlist import RememberedFavourites
from .restore import SavedImages, show_view
from .state import ExploreState
from .viewer import ImageViewer

VIEWER = "viewer"   # the render target of the central image
MAX_RECENT = 8


def studio_settings() -> QSettings:
    """The window's settings (layout, recent models, favourites) in the user's settings folder."""
    return QSettings("stylegan-studio", "stylegan-studio")


def last_model(settings: QSettings) -> str | None:
    """The model the studio had open when it was closed (the newest Recent Models entry still there), or None."""
    return next((p for p in settings.value("recent", [], type=list) if Path(p).is_file()), None)


def in_sight(dock: QDockWidget) -> bool:
    """Whether a dock is on screen: shown, and floating or not a tab behind another (Qt parks those off-screen)."""
    return dock.isVisible() and (dock.isFloating() or not dock.visibleRegion().isEmpty())


START_SIZE = (1360, 860)  # first launch, shrunk to the screen; every pane scrolls rather than force a larger window
SEEDS_PER_SIDE = 2.0  # a drag across the whole image travels two seeds
PATH_STEP = 0.005     # the travelled path keeps points at least this far apart (in seeds): it stays small
MODEL_SUFFIXES = (".safetensors", ".pkl")  # our model files; NVIDIA's pickles (StyleGAN v1, StyleGAN2-ADA, StyleGAN3)
MODEL_FILTER = ("Models (*.safetensors *.pkl);;Studio models (*.safetensors);;"
                "NVIDIA pickles: StyleGAN, StyleGAN2-ADA, StyleGAN3 (*.pkl);;All files (*)")




# What the mouse does, listed under the keyboard shortcuts (Help → Keyboard Shortcuts).
GESTURES = (("Shift+drag on the image", "travel through seeds"),
            ("Drag a face", "onto the image, the mixing grid's top row or left column, or the Interpolation pane"),
            ("Right-click a face", "show it, keep it, add it to the mixing grid, interpolate to it"),
            ("Arrow keys in the thumbnails", "view the next face"),
            ("Delete in the favourites", "remove the selected favourites"),
            ("Drop a file on the window", "a model opens; a PNG the studio saved comes back as saved; any other "
                                          "image is projected"))


def is_model_path(path: str) -> bool:
    """True for a file name the window opens as a model."""
    return path.lower().endswith(MODEL_SUFFIXES)


class MainWindow(QMainWindow):
    """Central viewer plus dock panes; renders the current image whenever the state changes."""

    def __init__(self, bridge, settings: QSettings | None = None) -> None:
        super().__init__()
        self.bridge = bridge
        self.qsettings = settings or studio_settings()
        self.state = ExploreState()
        self.history = History(self.state)
        self.video_dialog = None
        self.faces_dialog = None
        self.blend_dialog = None
        self.info_dialog = None
        self.fid_dialog = None
        self.project_dialog = ProjectImageDialog(bridge, self.state, self)  # non-modal; shown when an image is projected
        self.project_dialog.projected.connect(self.on_projected)
        self.viewer = ImageViewer()
        self.setCentralWidget(self.viewer)
        self.setWindowTitle("StyleGAN Studio")
        self.setAcceptDrops(True)
        self._fit_to_screen()
        self.panes = {e.key: e.cls(bridge, self.state) for e in PANES}
        self.docks = {e.key: self._dock(e.title, self.panes[e.key]) for e in PANES}
        self._status_widgets()   # before the docks are tabbed: a status bar added later left a stale tab bar over it
        self._arrange()
        self.default_state = self.saveState()
        self.saved_images = SavedImages(self)   # File → Open Saved Image
        self.favourites = RememberedFavourites(self.panes[Pane.SEEDS].favs, self.qsettings, self.remember)
        self._menus()
        self._connect()
        self._restore()

    # ---------------------------------------------------------------- construction
    def _fit_to_screen(self) -> None:
        screen = self.screen().availableGeometry()
        self.resize(min(START_SIZE[0], screen.width()), min(START_SIZE[1], screen.height()))

    def _dock(self, name: str, pane) -> QDockWidget:
        # A pane squeezed below its own minimum scrolls inside its dock: the window never grows to fit a pane,
        # and a small screen (1280×720) gets scroll bars instead of overlapping widgets.
        scroll = QScrollArea(widgetResizable=True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(Squeezable(pane))
        dock = QDockWidget(name, self)
        dock.setObjectName(name)  # saved layouts (QSettings) name docks by their titles: kept so they restore
        dock.setWidget(scroll)
        return dock

    def _arrange(self) -> None:
        for entry in PANES:
            self.addDockWidget(entry.area, self.docks[entry.key])
            if entry.tab_with:
                self.tabifyDockWidget(self.docks[entry.tab_with], self.docks[entry.key])
        self.docks[Pane.MIXING].raise_()
        self.docks[Pane.NOISE].raise_()
        self._size_docks()

    def _size_docks(self) -> None:
        # A mixing grid of three rows needs about a third of the window's height to show without scrolling.
        self.resizeDocks([self.docks[Pane.MIXING]], [max(330, self.height() * 2 // 5)], Qt.Orientation.Vertical)
        # The noise rows' strength sliders need room, and the side dock's tabs their full names; the viewer keeps the rest.
        side = max(340, self.width() // 4, self._tabs_width(self.docks[Pane.NOISE].windowTitle()))
        self.resizeDocks([self.docks[Pane.NOISE]], [side], Qt.Orientation.Horizontal)

    def _tabs_width(self, title: str) -> int:
        """The width the tab bar holding the dock `title` needs to show every tab's name unshortened."""
        bars = [tb for tb in self.findChildren(QTabBar) if title in (tb.tabText(i) for i in range(tb.count()))]
        return max((sum(tb.tabSizeHint(i).width() for i in range(tb.count())) + 4 for tb in bars), default=0)

    def _status_widgets(self) -> None:
        self.model_label, self.render_label = QLabel("No model"), QLabel("")
        self.statusBar().addPermanentWidget(self.model_label)
        self.statusBar().addPermanentWidget(self.render_label)

    def _action(self, menu, text: str, slot, shortcut=None, icon_name: str | None = None) -> QAction:
        act = QAction(icon(icon_name) if icon_name else QAction(text).icon(), text, self)
        if isinstance(shortcut, QKeySequence.StandardKey):
            act.setShortcuts(shortcut)   # every binding of the platform (Redo: Ctrl+Shift+Z; Ctrl+Y is added)
        elif shortcut:
            act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    def _menus(self) -> None:
        file = self.menuBar().addMenu("&File")
        self._action(file, "Open Model…", self.open_model_dialog, QKeySequence.StandardKey.Open, "fa5s.folder-open")
        self.recent_menu = file.addMenu("Recent Models")
        self.recent_menu.aboutToShow.connect(self._refresh_recent)   # a file moved since: said when it is looked at
        self._action(file, "Open Saved Image…", self.open_saved_image_dialog, "Ctrl+Shift+O", "fa5s.image")
        self.save_action = self._action(file, "Save Image…", lambda: self.save_image(), QKeySequence.StandardKey.Save,
                                        "fa5s.save")
        self._action(file, "Export Mixing Grid…", lambda: self.panes[Pane.MIXING].export(), None,
                     "fa5s.th")
        self._action(file, "Export Seed Page…", lambda: self.panes[Pane.SEEDS].export_page(), None, "fa5s.border-all")
        self._action(file, "Export Faces…", lambda: self.export_faces_dialog(), "Ctrl+Shift+E", "fa5s.images")
        figures = file.addMenu("Export Figure")
        for name in FIGURES:
            self._action(figures, f"{name.capitalize()} (paper figure)…", lambda _=False, n=name: self.export_figure(n))
        self._action(file, "Export Video…", self.export_video_dialog, "Ctrl+E", "fa5s.film")
        self._action(file, "Project Image…", self.project_image_dialog, "Ctrl+P", "fa5s.user-check")
        self._action(file, "Blend Models…", self.open_blend_dialog, "Ctrl+B", "fa5s.layer-group")
        self._action(file, "Measure FID…", self.measure_fid_dialog, None, "fa5s.ruler")
        self._action(file, "Model Info…", self.model_info_dialog, "Ctrl+I", "fa5s.info-circle")
        file.addSeparator()
        self._action(file, "Quit", self.close, QKeySequence.StandardKey.Quit)
        edit = self.menuBar().addMenu("&Edit")
        self.undo_action = self._action(edit, "Undo", self.undo, QKeySequence.StandardKey.Undo, "fa5s.undo")
        self.redo_action = self._action(edit, "Redo", self.redo, QKeySequence.StandardKey.Redo, "fa5s.redo")
        if QKeySequence("Ctrl+Y") not in self.redo_action.shortcuts():   # the platform's may lack it (Linux themes)
            self.redo_action.setShortcuts([*self.redo_action.shortcuts(), QKeySequence("Ctrl+Y")])
        edit.addSeparator()
        self.copy_action = self._action(edit, "Copy Image", self.copy_image, QKeySequence.StandardKey.Copy, "fa5s.copy")
        for signal in (self.history.changed, self.state.changed):
            signal.connect(self._history_actions)
        self._history_actions()
        view = self.menuBar().addMenu("&View")
        for entry in PANES:
            act = self.docks[entry.key].toggleViewAction()
            act.setShortcut(QKeySequence(entry.shortcut))
            view.addAction(act)
        view.addSeparator()
        self._action(view, "Fit to Window", lambda: self.viewer.set_fit(True), "Ctrl+0")
        self._action(view, "Actual Pixels (1:1)", lambda: self.viewer.set_fit(False), "Ctrl+Shift+0")
        self.crisp_action = self._action(view, "Crisp Pixels When Enlarging", self.set_crisp)
        self.crisp_action.setCheckable(True)
        self.crisp_action.setChecked(self.qsettings.value("crisp", True, type=bool))
        self.viewer.set_crisp(self.crisp_action.isChecked())
        self._action(view, "Reset Layout", lambda: self.restoreState(self.default_state))
        seeds = self.menuBar().addMenu("&Seed")
        self._action(seeds, "Next Seed", lambda: self.step_seed(1), "Ctrl+Right", "fa5s.chevron-right")
        self._action(seeds, "Previous Seed", lambda: self.step_seed(-1), "Ctrl+Left", "fa5s.chevron-left")
        self._action(seeds, "Random Seed", self.random_seed, "Ctrl+R", "fa5s.dice")
        seeds.addSeparator()
        self.travel_action = self._action(seeds, "Travel Mode (drag the image through seed space)",
                                          self.viewer.set_travel_mode, "Ctrl+T", "fa5s.route")
        self.travel_action.setCheckable(True)
        self.travel_w_action = self._action(
            seeds, "Travel Blends in W (else slerp in Z)", lambda on: setattr(self.state, "travel_space", "w" if on else "z"))
        self.travel_w_action.setCheckable(True)
        self._action(seeds, "Save Travelled Path…", lambda: self.save_travel_path())
        seeds.addSeparator()
        self._action(seeds, "Resample Fine Noise", lambda: self.panes[Pane.NOISE].resample_group("fine"),
                     "Ctrl+Shift+F")
        self._action(seeds, "Resample Coarse Noise", lambda: self.panes[Pane.NOISE].resample_group("coarse"),
                     "Ctrl+Shift+C")
        help_ = self.menuBar().addMenu("&Help")
        self._action(help_, "Keyboard Shortcuts", self.show_shortcuts)
        self._action(help_, "About", self.show_about)
        self._refresh_recent()

    def _connect(self) -> None:
        b = self.bridge
        b.results(VIEWER).connect(self.on_frame)
        b.model_info.connect(self.on_model)
        b.error.connect(self.on_error)
        for faces in (self.panes[Pane.SEEDS].grid, self.panes[Pane.SEEDS].favs, self.panes[Pane.DIRECTIONS].kept_list):
            faces.face_actions = self.add_face_actions
        self.panes[Pane.SEEDS].favs.export_all = lambda: self.export_faces_dialog(favourites=True)
        self.viewer.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.viewer.customContextMenuRequested.connect(
            lambda pos: self.viewer_menu().popup(self.viewer.mapToGlobal(pos)))
        b.saved.connect(lambda ev: self.statusBar().showMessage(f"Saved {ev.what}: {ev.path}", 8000))
        self.state.changed.connect(self.render)
        self.viewer.latent_dropped.connect(self.state.set_latent)
        self.viewer.travel_started.connect(self.start_travel)
        self.viewer.travel_moved.connect(self.travel)
        self.panes[Pane.SEEDS].latent_chosen.connect(self.state.set_latent)
        self.panes[Pane.MIXING].cell_chosen.connect(self.state.set_latent)
        self.panes[Pane.LAYERS].view_changed.connect(self.render)
        for key in (Pane.LAYERS, Pane.INTERPOLATION, Pane.TRUNCATION):  # panes that render only while in sight
            dock = self.docks[key]
            dock.visibilityChanged.connect(self.panes[key].set_shown)
            # a tab floated out of its group was "visible" already (Qt moves a tab behind another off-screen): no
            # visibilityChanged comes, so its pane stayed blank; once the window has placed it, look again
            dock.topLevelChanged.connect(lambda floating, k=key: self._floated(k, floating))
        self.panes[Pane.LAYERS].channel_chosen.connect(self.panes[Pane.SEEDS].show_channel)
        for pane in self.panes.values():
            if hasattr(pane, "status"):
                pane.status.connect(lambda text: self.statusBar().showMessage(sentence(text), 8000))

    # ---------------------------------------------------------------- rendering
    def render(self) -> None:
        """Ask for the current image (latest wins: a slider drag collapses to its newest value)."""
        st = self.state
        if st.model is None:
            return
        stamp = self.bridge.next_stamp()
        self.bridge.submit(RenderImage(VIEWER, stamp, st.latent, st.settings, st.mix_with, st.mix_layers,
                                       with_layer=self.panes[Pane.LAYERS].live_request(stamp)))

    def on_frame(self, ev) -> None:
        self.state.frame = (ev.request.latent, ev.image) if ev.request is not None else None
        self.viewer.show_image(ev.image, self.state.describe() + f" · {ev.seconds * 1000:.0f} ms")
        self.render_label.setText(f"render {ev.seconds * 1000:.0f} ms")

    def focusNextPrevChild(self, forward: bool) -> bool:  # noqa: N802 (Qt name)
        """Tab skips the controls of a pane whose tab is behind another: Qt parks such a pane off-screen, not
        hidden, so Tab reached its sliders and keys changed settings no one could see."""
        start = QApplication.focusWidget()
        for _ in range(2000):   # (a bound: the focus chain is a cycle)
            if not super().focusNextPrevChild(forward):
                return False
            widget = QApplication.focusWidget()
            if widget is None or widget is start or not self._parked(widget):
                return True
        return True

    def _parked(self, widget) -> bool:
        """Whether `widget` is in a shown pane that is out of sight (a tab behind another)."""
        return any(d.isAncestorOf(widget) and d.isVisible() and not in_sight(d) for d in self.docks.values())

    def _floated(self, key: str, floating: bool) -> None:
        """A dock was floated or docked again: a tab floated from behind another kept its off-screen place (Qt
        parks hidden tabs there), so it is brought over the window; then its pane is told whether it is in sight."""
        dock = self.docks[key]
        if floating and not self.screen().availableGeometry().intersects(dock.geometry()):
            dock.move(self.geometry().center() - dock.rect().center())
        QTimer.singleShot(0, lambda: self._look_again(key))

    def _look_again(self, key: str) -> None:
        """Tell a pane whether its dock is on screen now: shown, and not a tab behind another."""
        self.panes[key].set_shown(in_sight(self.docks[key]))

    def on_model(self, info) -> None:
        """A model is in use: update the status bar, the recent list and every pane."""
        live = " (live training G_ema)" if info.live else ""
        classes = f" · {info.c_dim} classes" if info.c_dim else ""
        differs = " · source differs" if info.source_note else ""
        fade = f", fading in {info.grown_alpha:.2f}" if info.grown_alpha < 1 else ""
        grown = f" (grown to {info.grown_res}²{fade})" if info.grown_res else ""
        self.model_label.setText(f"{info.name}{live} · {ARCH_NAMES.get(info.arch, info.arch)} · {info.resolution}²"
                                 f"{grown}{classes} · {info.device}{differs}")
        self.model_label.setToolTip(info.source_note)
        self.setWindowTitle(f"{info.name}{live} — StyleGAN Studio")   # which model, in the task bar and window list
        if info.path and not info.live and Path(info.path).is_file():
            self._add_recent(info.path)
        # e.g. "converted and cached", and that its source is not NVIDIA's (once: a conversion's notice may say it)
        note = "" if info.source_note in info.notice else info.source_note
        if info.notice or note:
            self.statusBar().showMessage(" · ".join(filter(None, (info.notice, note))), 20000)
        elif self.statusBar().currentMessage().startswith("Opening"):
            self.statusBar().showMessage(f"Opened {info.name}", 5000)   # the model is open: say so, not "Opening…"
        self.state.set_model(info)
        self.favourites.on_model(info)
        self.saved_images.on_model(info)

    def on_error(self, ev) -> None:
        """Errors are shown, never fatal; a failed open keeps the previous model."""
        self.statusBar().showMessage(f"Error: {ev.message}", 15000)
        if isinstance(ev.source, LoadModel) and self.state.model is None and bundled_model_path() is not None \
                and ev.source.path != str(bundled_model_path()):
            # the first model (the last session's, or one named on the command line) did not open: the bundled
            # one rather than an empty window
            self.bridge.post(LoadModel(str(bundled_model_path())))
            self.statusBar().showMessage(f"Could not open {Path(ev.source.path).name} ({ev.message}): showing the "
                                         "bundled model", 20000)
            return
        if isinstance(ev.source, LoadModel):
            self.saved_images.on_model_failed()
            box = QMessageBox(QMessageBox.Icon.Warning, "Cannot open model", ev.message, parent=self)
            box.setInformativeText("The previous model stays open.")
            box.open()

    # ---------------------------------------------------------------- actions
    def open_model(self, path: str) -> None:
        """Load a model file or an official .pkl (in the engine; the GUI never waits)."""
        first = " (an official pickle is converted the first time; large ones take a while)" \
            if str(path).lower().endswith(".pkl") else ""
        self.statusBar().showMessage(f"Opening {path}{first}…", 0 if first else 5000)
        self.bridge.post(LoadModel(str(path)))

    def open_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", "", MODEL_FILTER)
        if path:
            self.open_model(path)

    def save_image(self, path: str | None = None) -> None:
        """Write the current image as a PNG with provenance (asks where, unless given a path)."""
        st = self.state
        name = f"seed{st.seed():04d}.png" if st.seed() is not None else "image.png"
        path = save_name(self, "Save image", name, "PNG (*.png)", path)
        if path:
            self.bridge.post(ExportStill(path, RenderImage(latent=st.latent, settings=st.settings, mix_with=st.mix_with,
                                                                mix_layers=st.mix_layers)))

    def copy_image(self) -> None:
        """Put the image on screen on the clipboard at the model's own resolution."""
        if self.state.frame is None:
            self.statusBar().showMessage("No image to copy yet", 5000)
            return
        image = self.state.frame[1]
        # setImage, not a QMimeData made here: the clipboard keeps that, and at exit the process crashed (offscreen)
        QApplication.clipboard().setImage(to_pixmap(image).toImage())
        self.statusBar().showMessage(f"Copied the {image.shape[1]}×{image.shape[0]} image "
                                     f"({self.state.describe()})", 5000)

    def export_figure(self, name: str, path: str | None = None) -> None:
        """One of the paper's figures on the current model, at the current ψ, as a PNG with provenance."""
        path = save_name(self, "Export figure", f"figure-{name}.png", "PNG (*.png)", path)
        if path:
            self.bridge.post(ExportStill(path, RenderFigure(name=name, psi=self.state.settings.psi,
                                                            c=self.state.label_class)))

    def export_video_dialog(self) -> None:
        """Open the (non-modal) Export Video dialog."""
        if self.video_dialog is None:
            self.video_dialog = ExportVideoDialog(self.bridge, self.state, self,
                                                  favourites=self.panes[Pane.SEEDS].favourites)
        self.video_dialog.show()
        self.video_dialog.raise_()

    def export_faces_dialog(self, favourites: bool = False) -> None:
        """Open the (non-modal) Export Faces dialog: seeds or (chosen already) the favourites, one PNG each."""
        seeds = self.panes[Pane.SEEDS]
        if self.faces_dialog is None:
            self.faces_dialog = ExportFacesDialog(self.bridge, self.state, seeds.entry.text, seeds.favs.entries, self)
        self.faces_dialog.refresh()
        if favourites and self.faces_dialog.from_favs.isEnabled():
            self.faces_dialog.from_favs.setChecked(True)
        self.faces_dialog.show()
        self.faces_dialog.raise_()

    def measure_fid_dialog(self) -> None:
        """Open the (non-modal) Measure FID dialog for the open model."""
        if self.fid_dialog is None:
            self.fid_dialog = MeasureFidDialog(self.bridge, self)
        self.fid_dialog.show()
        self.fid_dialog.raise_()

    def model_info_dialog(self) -> None:
        """Open the (non-modal) Model Info dialog: the open model's model card and details."""
        if self.info_dialog is None:
            self.info_dialog = ModelInfoDialog(self.bridge, self)
        self.info_dialog.show()
        self.info_dialog.raise_()
        self.info_dialog.request()

    def open_blend_dialog(self) -> None:
        """Open the (non-modal) Blend Models dialog: the open model blended with a second one."""
        if self.blend_dialog is None:
            self.blend_dialog = BlendDialog(self.bridge, self.state, self)
            self.blend_dialog.opened.connect(lambda path: self.statusBar().showMessage(
                f"Opening the blend {Path(path).name} (its model card names both parents)", 15000))
        self.blend_dialog.show()
        self.blend_dialog.raise_()
        self.blend_dialog.request()

    def project_image(self, path: str) -> None:
        """Find the face closest to an image file (a job with a live preview; the result becomes a favourite)."""
        self.project_dialog.show()
        self.project_dialog.raise_()
        self.project_dialog.start(path)

    def project_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Project image", "", "Images (*.png *.jpg *.jpeg *.webp *.bmp "
                                              "*.gif *.tif *.tiff);;All files (*)")
        if path:
            self.project_image(path)

    def add_face_actions(self, menu, latent, shown: bool = False, keep: bool = True) -> None:
        """What a right-click on a face offers (a thumbnail, a favourite, the viewer's face when `shown`): in words,
        what dragging it does; `keep`: offer to keep it as a favourite (not for a favourite)."""
        if not shown:
            menu.addAction(icon("fa5s.eye"), "Show", lambda: self.state.set_latent(latent))
        seeds = self.panes[Pane.SEEDS]
        if keep:
            menu.addAction(icon("fa5s.star"), "Keep as Favourite",
                           seeds.keep_current if shown else lambda: seeds.add_favourite(latent, latent.label()))
        for kind, where in (("row", "Row"), ("col", "Column")):   # the viewer's face as shown: mixed, if it is
            add = (lambda kind=kind: seeds.current_face(lambda face, _: self.add_to_mixing(kind, face))) if shown \
                else (lambda kind=kind: self.add_to_mixing(kind, latent))
            menu.addAction(icon("fa5s.th"), f"Add to Mixing Grid as {where}", add)
        if not shown:   # (the image in the viewer is where a strip starts)
            menu.addAction(icon("fa5s.arrows-alt-h"), "Interpolate to This Face", lambda: self.interpolate_to(latent))

    def add_to_mixing(self, kind: str, latent) -> None:
        """Append a face to the mixing grid as a row or a column (what dropping it on the grid's empty slot does)."""
        mixing = self.panes[Pane.MIXING]
        mixing.set_source(kind, len(mixing.grid.rows if kind == "row" else mixing.grid.cols), latent)
        self.docks[Pane.MIXING].raise_()
        where = "row" if kind == "row" else "column"
        self.statusBar().showMessage(f"Added {latent.label()} to the mixing grid as a {where}", 5000)

    def interpolate_to(self, latent) -> None:
        """End the Interpolation pane's strip at this face and show the pane."""
        self.panes[Pane.INTERPOLATION].end_at(latent)
        self.docks[Pane.INTERPOLATION].raise_()

    def viewer_menu(self) -> QMenu:
        """The right-click menu of the image: the face's actions, then Copy, Save, Undo and Redo."""
        menu = QMenu(self)
        self.add_face_actions(menu, self.state.latent, shown=True)
        menu.addSeparator()
        for act in (self.copy_action, self.save_action, None, self.undo_action, self.redo_action):
            menu.addSeparator() if act is None else menu.addAction(act)
        return menu

    def undo(self) -> None:
        """Back to the view before (the face, its mixing, ψ, cutoff, noise): Edit → Undo."""
        if not self._stop_animation():
            self._step(self.history.undo(), "Back to", "Nothing to undo")

    def redo(self) -> None:
        """Forward to the view undone last: Edit → Redo."""
        if not self._stop_animation():
            self._step(self.history.redo(), "Forward to", "Nothing to redo")

    def _stop_animation(self) -> bool:
        """Undo or Redo while the noise animates stops it, back to the noise before it (the animation redraws
        the noise 8 times a second: a step through the history would be overwritten at once); True if it ran."""
        animate = self.panes[Pane.NOISE].animate
        if not animate.isChecked():
            return False
        animate.setChecked(False)
        self.statusBar().showMessage("Noise animation stopped: back to the noise before it", 5000)
        return True

    def _step(self, view, done: str, none: str) -> None:
        if view is None:
            self.statusBar().showMessage(none, 3000)
            return
        show_view(self, view)
        self.statusBar().showMessage(f"{done} {self.state.describe()}", 5000)

    def _history_actions(self) -> None:
        self.undo_action.setEnabled(self.history.can_undo())
        self.redo_action.setEnabled(self.history.can_redo())

    def open_saved_image(self, path: str) -> None:
        """Open an image file: a PNG the studio saved comes back as it was saved (its model opened if it is not
        the open one); any other image is projected (its closest face found)."""
        self.saved_images.open(path)

    def open_saved_image_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open saved image", "", "PNG images (*.png);;All files (*)")
        if path:
            self.open_saved_image(path)

    def on_projected(self, ev) -> None:
        """A projection finished: keep it as a favourite and show it untruncated (ψ 1), as it was found."""
        name, seeds = Path(ev.path).stem, self.panes[Pane.SEEDS]
        added = seeds.add_favourite(ev.latent, f"projected {name}", ev.image)
        self.panes[Pane.TRUNCATION].set_values(1.0, None)
        self.state.set_latent(ev.latent)
        kept = "a favourite now" if added else f"the same face as the favourite \"{seeds.favs.currentItem().text()}\""
        self.statusBar().showMessage(f"Projected {name} ({ev.psnr:.1f} dB): {kept}, shown at ψ 1", 15000)

    def set_crisp(self, crisp: bool) -> None:
        """Nearest-neighbour enlarging of small images in the viewer (remembered)."""
        self.viewer.set_crisp(crisp)
        self.remember(crisp=bool(crisp))

    def start_travel(self) -> None:
        """A drag begins where the face in the viewer sits in seed space (a custom w: at seed 0)."""
        lat = self.state.latent
        if lat.pos is not None:
            self._travel_from = lat.pos
        elif lat.seed is not None:
            self._travel_from = seed_position(lat.seed)
        else:
            self._travel_from = (0.0, 0.0)
            self.statusBar().showMessage("The face in the viewer is not a seed: travelling from seed 0", 8000)
        if not self.state.travel_path or self.state.travel_path[-1] != self._travel_from:
            self.state.travel_path.append(self._travel_from)

    def travel(self, dx: float, dy: float) -> None:
        """Move to the fractional seed `dx`, `dy` image sides from where the drag began (latest wins)."""
        x0, y0 = self._travel_from
        pos = (max(0.0, x0 + dx * SEEDS_PER_SIDE), max(0.0, y0 + dy * SEEDS_PER_SIDE))
        st = self.state
        last = st.travel_path[-1] if st.travel_path else None
        if last is None or abs(pos[0] - last[0]) + abs(pos[1] - last[1]) >= PATH_STEP:
            st.travel_path.append(pos)
        if st.latent.pos != pos or st.latent.space != st.travel_space:
            st.set_latent(Latent(pos=pos, space=st.travel_space), st.mix_with, st.mix_layers)

    def save_travel_path(self, path: str | None = None) -> None:
        """Write the path travelled in this window, for `video --kind walk --path FILE`."""
        if len(self.state.travel_path) < 2:   # said before a file name is asked for, not after
            self.statusBar().showMessage("No path travelled yet: drag the image with Shift held (or in Seed → "
                                         "Travel Mode)", 8000)
            return
        path = save_name(self, "Save travelled path", "travel.json", "Travelled path (*.json)", path)
        if path:
            self.bridge.post(SaveTravelPath(path, tuple(self.state.travel_path), self.state.travel_space))

    def step_seed(self, step: int) -> None:
        lat = self.state.latent
        seed = round(lat.pos[0]) + SEED_ROW * round(lat.pos[1]) if lat.pos is not None else lat.seed  # nearest seed
        self.state.set_latent(self.state.seed_latent(max(0, (seed if seed is not None else 0) + step)))

    def random_seed(self) -> None:
        self.state.set_latent(self.state.seed_latent(random.randrange(2 ** 31)))

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """Help → Keyboard Shortcuts: (keys, what) of every menu action that has keys, in menu order (read from the
        menus; an action's first two Ctrl bindings, e.g. Redo's Ctrl+Shift+Z or Ctrl+Y)."""
        toggles = {self.docks[e.key].toggleViewAction() for e in PANES}
        rows = []
        for top in self.menuBar().actions():
            for act in _menu_actions(top.menu()):
                keys = [k.toString() for k in act.shortcuts() if "+" in k.toString()]
                keys = ([k for k in keys if k.startswith("Ctrl+")] or keys)[:2]   # not Undo's Alt+Backspace
                if keys:
                    what = act.text().replace("&", "").rstrip("…")
                    rows.append((" or ".join(keys), f"show or hide {what}" if act in toggles else what))
        return rows

    def shortcut_text(self) -> str:
        """The shortcuts, then what the mouse does, one "keys  what" line each."""
        return "\n".join([f"{k}  {w}" for k, w in self.shortcut_rows()] + [""] + [f"{k}  {w}" for k, w in GESTURES])

    def show_shortcuts(self) -> None:
        def table(rows) -> str:
            return "<table cellspacing='3'>" + "".join(f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td>"
                                                       f"<td>{html.escape(w)}</td></tr>" for k, w in rows) + "</table>"
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", "", parent=self)
        box.setTextFormat(Qt.TextFormat.RichText)   # two columns: keys, then what they do
        box.setText(table(self.shortcut_rows()) + "<p><b>With the mouse</b></p>" + table(GESTURES))
        box.open()

    def about_text(self) -> str:
        """Help → About: what the studio does and its installed version."""
        try:
            version = importlib.metadata.version("stylegan-studio")
        except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
            version = "from source"
        return (f"StyleGAN Studio {version} — explore StyleGAN v1, StyleGAN2 and StyleGAN3 generators, and train "
                "StyleGAN v1 and StyleGAN2 ones (from scratch or fine-tuned), on CPU or GPU.")

    def show_about(self) -> None:
        QMessageBox(QMessageBox.Icon.Information, "About StyleGAN Studio", self.about_text(), parent=self).open()

    # ---------------------------------------------------------------- recent files, layout, drops
    def _add_recent(self, path: str) -> None:
        recent = [p for p in self.qsettings.value("recent", [], type=list) if p != path]
        self.remember(recent=[path] + recent[:MAX_RECENT - 1])
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        """The Recent Models menu (rebuilt as it opens): a file that is gone is greyed out, not offered to fail."""
        self.recent_menu.clear()
        recent = self.qsettings.value("recent", [], type=list)
        for p in recent:
            there = Path(p).is_file()
            act = self.recent_menu.addAction(Path(p).name + ("" if there else " (not found)"),
                                             lambda p=p: self.open_model(p))
            act.setToolTip(p)
            act.setEnabled(there)
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear Recent Models", self._clear_recent)

    def _clear_recent(self) -> None:
        self.remember(recent=[])
        self._refresh_recent()

    def _restore(self) -> None:
        geometry, layout = self.qsettings.value("geometry"), self.qsettings.value("layout")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if layout is not None:
            self.restoreState(layout)
        self._first_show = layout is None  # a fresh layout takes its dock sizes once the window has its size

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._first_show:
            self._first_show = False
            self._size_docks()

    def closeEvent(self, event) -> None:  # noqa: N802
        self.remember(geometry=self.saveGeometry(), layout=self.saveState())
        super().closeEvent(event)

    def remember(self, **values) -> None:
        """Store settings now; a full disk or read-only folder is one status line (Qt keeps the previous file)."""
        for key, value in values.items():
            self.qsettings.setValue(key, value)
        self.qsettings.sync()
        if self.qsettings.status() != QSettings.Status.NoError:
            self.statusBar().showMessage(f"Error: cannot save the window's settings to {self.qsettings.fileName()} "
                                         "(disk full or read-only); the previous settings are kept", 15000)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if any(is_model_path(u.toLocalFile()) or is_image_path(u.toLocalFile()) for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        for url in event.mimeData().urls():
            if is_model_path(url.toLocalFile()):
                self.open_model(url.toLocalFile())
                event.acceptProposedAction()
                return
            if is_image_path(url.toLocalFile()):  # a saved PNG comes back as saved; another image is projected
                path = url.toLocalFile()
                self.open_saved_image(path) if path.lower().endswith(".png") else self.project_image(path)
                event.acceptProposedAction()
                return


def _menu_actions(menu) -> list[QAction]:
    """A menu's actions, those of its submenus included, in order."""
    out = []
    for act in menu.actions():
        out.extend(_menu_actions(act.menu()) if act.menu() else [act])
    return out
