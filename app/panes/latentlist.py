"""Lists of faces that drag out as latents: the Directions pane's kept faces, and the favourites (Seeds pane), which
each model keeps for itself and the window remembers between launches."""
from __future__ import annotations

import json

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QApplication, QListWidget, QListWidgetItem, QMenu

from ...engine.contract.latents import Latent, SpecError, latent_from_json, latent_to_json
from ...engine.contract.requests import RenderMixGrid
from ..qtutil import latent_to_mime, to_pixmap

ROLE = Qt.ItemDataRole.UserRole
ICONS_TARGET = "favourite-icons"   # render target of the favourites' icons
MAX_FAVOURITES = 500               # remembered per model (a W+ face of a 1024² model is ~100 KB of settings)


class LatentList(QListWidget):
    """Icon grid whose items carry a Latent and can be dragged out with the studio MIME type; `chosen` carries the
    face clicked, or reached with the arrow keys (Home, End, Page Up/Down too)."""

    chosen = Signal(object)

    def __init__(self, thumb: int) -> None:
        super().__init__()
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(QSize(thumb, thumb))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setDragEnabled(True)
        self.setUniformItemSizes(True)
        self.setGridSize(QSize(thumb + 10, thumb + 22))
        blank = QPixmap(thumb, thumb)
        blank.fill(QColor("#3a3a3a"))
        self.blank = QIcon(blank)  # placeholder until the thumbnail streams in
        self.face_actions = None   # the window's (menu, latent) → what a right-click on a face offers
        self.itemClicked.connect(lambda item: self.chosen.emit(item.data(ROLE)))
        self.currentItemChanged.connect(self._keyed)
        self.quiet = False   # True while the list moves its current item itself (a removal, following the viewer)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(lambda pos: self._popup(self.menu_at(pos), pos))

    def _keyed(self, item, _previous) -> None:
        # The keyboard moved the current face (a click is itemClicked's; a refilled page moves it without focus).
        if item is not None and not self.quiet and self.hasFocus() and \
                QApplication.mouseButtons() == Qt.MouseButton.NoButton:
            self.chosen.emit(item.data(ROLE))

    def menu_at(self, pos) -> QMenu:
        """The menu a right-click at `pos` opens: the face's actions (show it, keep it, put it in the mixing grid)."""
        menu = QMenu(self)
        item = self.itemAt(pos)
        if item is not None and self.face_actions is not None:
            self.face_actions(menu, item.data(ROLE), keep=not isinstance(self, FavouritesList))
        return menu

    def _popup(self, menu: QMenu, pos) -> None:
        if not menu.isEmpty():
            menu.popup(self.mapToGlobal(pos))

    def mimeData(self, items):  # noqa: N802 (Qt name)
        latent = items[0].data(ROLE) if items else None
        return latent_to_mime(latent) if latent is not None else super().mimeData(items)

    def add_latent(self, latent: Latent, text: str) -> QListWidgetItem:
        """Append an item for `latent`."""
        item = QListWidgetItem(self.blank, text)
        item.setData(ROLE, latent)
        self.addItem(item)
        return item

    def latents(self) -> tuple[Latent, ...]:
        """The latents listed, in order."""
        return tuple(self.item(i).data(ROLE) for i in range(self.count()))


class FavouritesList(LatentList):
    """The favourites: `changed` after each addition or removal (the window remembers them for the open model);
    Delete or the context menu removes; faces without an icon (read from a file or from the settings, or all of
    them when another model opens) get one rendered by the engine."""

    changed = Signal()

    def __init__(self, bridge, state, thumb: int) -> None:
        super().__init__(thumb)
        self.bridge, self.state, self.thumb = bridge, state, thumb
        self.waiting: tuple[int, list] = (0, [])   # (stamp, items) of the icons on their way, in order
        self.export_all = None   # the window's: Export Faces with the favourites chosen
        self.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.setGridSize(QSize(thumb + 34, thumb + 22))   # "seed 12" under a 40-px face, not "se…"
        bridge.results(ICONS_TARGET).connect(self._on_icons)

    def add_latent(self, latent: Latent, text: str) -> QListWidgetItem:
        item = super().add_latent(latent, text)
        # the cell shows a few letters of the name; the tooltip all of it, and what the face is
        item.setToolTip(text if text == latent.label() else f"{text} ({latent.label()})")
        self.changed.emit()
        return item

    def set_entries(self, entries: list[tuple[Latent, str]]) -> None:
        """Show exactly these (latent, label) favourites (e.g. the remembered ones: no `changed`), their icons
        rendered by the open model."""
        self.clear()
        self._append(entries)

    def add_entries(self, entries: list[tuple[Latent, str]]) -> None:
        """Append these favourites (e.g. a file's) with one `changed`: the window writes its settings once, not
        once per face."""
        self._append(entries)
        self.changed.emit()

    def _append(self, entries) -> None:
        self.blockSignals(True)
        for latent, text in entries:
            self.add_latent(latent, text)
        self.blockSignals(False)
        self.render_icons()

    def entries(self) -> list[tuple[Latent, str]]:
        """(latent, label) of every favourite, in order."""
        return [(self.item(i).data(ROLE), self.item(i).text()) for i in range(self.count())]

    def render_icons(self) -> None:
        """Ask for the icons of the favourites that show the placeholder (one request: the sources of a grid
        without columns are exactly these faces)."""
        items = [self.item(i) for i in range(self.count()) if self.item(i).icon().cacheKey() == self.blank.cacheKey()]
        if not items or self.state.model is None:
            self.waiting = (0, [])
            return
        self.waiting = (self.bridge.next_stamp(), items)
        self.bridge.submit(RenderMixGrid(ICONS_TARGET, self.waiting[0], rows=tuple(item.data(ROLE) for item in items),
                                         settings=self.state.settings, thumb=self.thumb))

    def forget_icons(self) -> None:
        """Another model opened: every face looks different in it, so every icon is rendered again."""
        for i in range(self.count()):
            self.item(i).setIcon(self.blank)
        self.render_icons()

    def _on_icons(self, ev) -> None:
        stamp, items = self.waiting
        if ev.stamp != stamp:   # the icons of a list since replaced (another model's, or asked for again)
            return
        done = len(ev.row_images) if ev.done is None else min(ev.done, len(ev.row_images))
        for item, img in zip(items[:done], ev.row_images[:done]):
            if self.row(item) >= 0:   # a favourite removed meanwhile gets nothing (the images keep their order)
                item.setIcon(to_pixmap(img, self.thumb))

    def remove(self, items) -> None:
        """Remove these favourites."""
        self.quiet = True   # the item after a removed one becomes current: that is not the user choosing it
        for item in items:
            self.takeItem(self.row(item))
        self.quiet = False
        self.changed.emit()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selectedItems():
            self.remove(self.selectedItems())
            return
        super().keyPressEvent(event)

    def menu_at(self, pos) -> QMenu:
        """The face's actions, then Remove (the selection, if the face is in it), Export All and Remove all."""
        menu = super().menu_at(pos)
        item = self.itemAt(pos)
        if not menu.isEmpty():
            menu.addSeparator()
        if item is not None:
            chosen = self.selectedItems() if item.isSelected() else [item]
            menu.addAction("Remove" if len(chosen) == 1 else f"Remove {len(chosen)} favourites",
                           lambda: self.remove(chosen))
        if self.count() and self.export_all is not None:
            menu.addAction("Export All as Images…", self.export_all)
        if self.count():
            menu.addAction("Remove all favourites", lambda: self.remove([self.item(i) for i in range(self.count())]))
        return menu


class RememberedFavourites:
    """Each model keeps its own favourites (a face is a face of one model) in the window's settings, one key per
    model id, so they come back at the next launch; a training run's live G_ema keeps the list it has, an unsaved
    model starts with none (and keeps them when it is saved)."""

    def __init__(self, favs: FavouritesList, settings, remember) -> None:
        self.favs, self.settings, self.remember = favs, settings, remember   # remember(**values): the window's
        self.model_id: str | None = None   # whose favourites are shown ("": an unsaved model's, not stored)
        favs.changed.connect(self.store)

    def on_model(self, info) -> None:
        """A model is open: show its favourites."""
        if info.live or info.model_id == self.model_id:
            return
        unsaved, self.model_id = self.model_id == "", info.model_id
        stored = decode_favourites(self.settings.value(self.key(), "") if info.model_id else "")
        if unsaved and not stored:   # the unsaved model was saved (or a run's G_ema explored): its faces stay
            self.favs.forget_icons()
            self.store()
            return
        self.favs.set_entries(stored)

    def key(self) -> str:
        return f"favourites/{self.model_id}"

    def store(self) -> None:
        """Write the shown favourites under the open model's id."""
        if self.model_id:
            self.remember(**{self.key(): encode_favourites(self.favs.entries())})


def encode_favourites(entries: list[tuple[Latent, str]]) -> str:
    """Favourites as the text the window's settings keep (JSON)."""
    return json.dumps([{"latent": latent_to_json(lat), "label": text} for lat, text in entries[:MAX_FAVOURITES]])


def decode_favourites(text) -> list[tuple[Latent, str]]:
    """The favourites encode_favourites wrote; what cannot be read (a damaged settings file) is left out."""
    try:
        items = json.loads(text) if isinstance(text, str) and text else []
    except (ValueError, RecursionError):
        return []
    out = []
    for entry in items[:MAX_FAVOURITES] if isinstance(items, list) else []:
        try:
            out.append((latent_from_json(entry["latent"]), str(entry.get("label", ""))))
        except (SpecError, KeyError, TypeError, AttributeError):
            continue
    return out
