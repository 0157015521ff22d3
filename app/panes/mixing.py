"""The Style Mixing pane: drop faces on the top row and left column; cells mix the chosen layers."""
from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QPushButton, QScrollArea, QVBoxLayout, QWidget

from ...engine.contract.messages import ExportStill
from ...engine.contract.latents import Latent, layer_ranges
from ...engine.contract.requests import RenderMixGrid
from ..qtutil import icon, latent_from_mime, save_name, to_pixmap
from .layerpicker import LayerPicker

TARGET = "mixing"  # render target of the grid
TILE = 80        # preferred tile size and the thumbnail size asked of the engine
START_ROWS, START_COLS = (1, 2, 3), (10, 11, 12, 13)  # the grid a first launch shows: the paper's experiment at once
HINT_FLAGS = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
MIN_TILE = 40    # below this the grid scrolls instead of shrinking
MAX_TILE = 160


def merge_images(old: tuple, new: tuple, done: int) -> tuple:
    """(rows, columns, cells) with the first `done` images (in that order, cells row by row) from `new`."""
    out, k = [], 0
    for o, n in zip(old, new):
        o = o.copy()
        flat_o, flat_n = o.reshape(-1, *o.shape[-3:]), n.reshape(-1, *n.shape[-3:])
        m = max(0, min(done - k, len(flat_n)))
        flat_o[:m] = flat_n[:m]
        out.append(o)
        k += len(flat_n)
    return tuple(out)


class MixGrid(QWidget):
    """Paints sources along the top and left and the mixed cells; accepts latent drops on the headers."""

    source_dropped = Signal(str, int, object)    # "row" | "col", index (len = append), latent
    source_removed = Signal(str, int)
    cell_clicked = Signal(int, int)

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Latent] = []
        self.cols: list[Latent] = []
        self.row_images = self.col_images = self.cells = None
        self.ready: int | None = None  # while a grid streams in: how many images (rows, columns, cells) are real
        self.tile = TILE
        self.setAcceptDrops(True)

    def _slots(self) -> tuple[int, int]:
        """Tiles across and down: header, sources and the empty drop slot."""
        return len(self.cols) + 2, len(self.rows) + 2

    def sizeHint(self) -> QSize:  # noqa: N802
        across, down = self._slots()
        return QSize(across * TILE, down * TILE)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        across, down = self._slots()
        return QSize(across * MIN_TILE, down * MIN_TILE)

    def sources_changed(self) -> None:
        """Sources were added or removed: recompute geometry and repaint."""
        self.updateGeometry()
        self._fit()
        self.update()

    def resizeEvent(self, event) -> None:  # noqa: N802
        self._fit()
        super().resizeEvent(event)

    def _fit(self) -> None:
        # Tiles grow to fill the pane (so a tall dock shows every row) and shrink to MIN_TILE before scrolling.
        across, down = self._slots()
        self.tile = max(MIN_TILE, min(MAX_TILE, self.width() // across, self.height() // down))

    def hit(self, x: int, y: int) -> tuple[str, int, int]:
        """('row'|'col'|'cell'|'corner', r, c) under a point; r/c may equal the count (the empty slot)."""
        c, r = x // self.tile - 1, y // self.tile - 1
        if r < 0 and c < 0:
            return "corner", -1, -1
        if r < 0:
            return "col", -1, min(c, len(self.cols))
        if c < 0:
            return "row", min(r, len(self.rows)), -1
        return "cell", r, c

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.fillRect(self.rect(), QColor("#2b2b2b"))
        p.setPen(QColor("#888"))
        for c in range(len(self.cols) + 1):
            hint = self._pending() if c < len(self.cols) else self._hint("column")
            self._tile(p, 0, c + 1, self.col_images if self._real(1, c) else None, c, hint)
        for r in range(len(self.rows) + 1):
            hint = self._pending() if r < len(self.rows) else self._hint("row")
            self._tile(p, r + 1, 0, self.row_images if self._real(0, r) else None, r, hint)
            for c in range(len(self.cols)):
                img = self.cells[r, c] if self.cells is not None and r < self.cells.shape[0] \
                    and c < self.cells.shape[1] and self._real(2, r * self.cells.shape[1] + c) else None
                if r < len(self.rows) and img is not None:
                    t = self.tile
                    p.drawPixmap(QRect((c + 1) * t, (r + 1) * t, t - 2, t - 2), to_pixmap(img))

    def _pending(self) -> str:
        """A source tile's text until its face arrives ("rendering…" was clipped to "endering.." in small tiles)."""
        return "rendering…" if self.tile >= 80 else "…"

    def _hint(self, what: str) -> str:
        """The empty slot's text, short when tiles are small."""
        return f"drop a face\nfor a {what}" if self.tile >= 80 else f"+ {what}"

    def _real(self, part: int, k: int) -> bool:
        """Whether image k of part 0 (rows), 1 (columns) or 2 (cells) has been rendered."""
        if self.ready is None:
            return True
        sizes = [len(a) if a is not None else 0 for a in (self.row_images, self.col_images)]
        return sum(sizes[:part]) + k < self.ready

    def _tile(self, p: QPainter, r: int, c: int, images, k: int, hint: str) -> None:
        t = self.tile
        rect = QRect(c * t, r * t, t - 2, t - 2)
        if images is not None and k < len(images):
            p.drawPixmap(rect, to_pixmap(images[k]))
        else:
            p.drawRect(rect)
            p.save()
            p.setFont(self.hint_font(p.font()))
            p.drawText(rect, HINT_FLAGS, hint)
            p.restore()

    def hint_font(self, font: QFont) -> QFont:
        """The font of an empty tile's text: smaller in small tiles, so that it still fits."""
        font = QFont(font)
        if self.tile < 80:
            font.setPixelSize(max(8, self.tile // 5))
        return font

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if latent_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        kind = self.hit(int(event.position().x()), int(event.position().y()))[0]
        event.setAccepted(kind in ("row", "col"))

    def dropEvent(self, event) -> None:  # noqa: N802
        latent = latent_from_mime(event.mimeData())
        pos = event.position() if hasattr(event, "position") else event.pos()
        kind, r, c = self.hit(int(pos.x()), int(pos.y()))
        if latent is None or kind not in ("row", "col"):
            return
        self.source_dropped.emit(kind, r if kind == "row" else c, latent)
        event.acceptProposedAction()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        kind, r, c = self.hit(int(event.position().x()), int(event.position().y()))
        if event.button() == Qt.MouseButton.RightButton and kind in ("row", "col"):
            idx = r if kind == "row" else c
            if idx < (len(self.rows) if kind == "row" else len(self.cols)):
                menu = QMenu(self)
                menu.addAction("Remove this source", lambda: self.source_removed.emit(kind, idx))
                menu.popup(event.globalPosition().toPoint())
        elif kind == "cell" and r < len(self.rows) and c < len(self.cols):
            self.cell_clicked.emit(r, c)


class MixingPane(QWidget):
    """Sources, layer selector and the grid; cell (r, c) = row face with the chosen layers from column c."""

    cell_chosen = Signal(object, object, tuple)   # row latent, column latent, layers
    status = Signal(str)

    def __init__(self, bridge, state) -> None:
        super().__init__()
        self.bridge, self.state = bridge, state
        self.grid = MixGrid()
        self.grid.source_dropped.connect(self.set_source)
        self.grid.source_removed.connect(self.remove_source)
        self.grid.cell_clicked.connect(self._cell)
        self.prefilled = False
        self.first_stamp = 0   # results of requests older than this show sources that are gone (cleared, removed)
        # the per-layer toggles sit beside the presets: one row, more grid
        self.picker = LayerPicker(("coarse", "middle", "fine"), beside=True)
        self.picker.changed.connect(lambda _: self.request())
        export = QPushButton(icon("fa5s.file-export"), "Export PNG…")
        export.clicked.connect(lambda: self.export())
        clear = QPushButton(icon("fa5s.trash"), "Clear")
        clear.clicked.connect(self.clear)
        presets = QHBoxLayout()
        presets.addWidget(self.picker, 1)
        presets.addWidget(clear)
        presets.addWidget(export)
        explain = QLabel("Each cell = the row's face with the selected layers taken from the column's face. "
                         "Drag faces from Seeds onto the top row or left column; right-click a source to remove it.")
        explain.setWordWrap(True)
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(self.grid)
        lay = QVBoxLayout(self)
        lay.addWidget(explain)
        lay.addLayout(presets)
        lay.addWidget(scroll, 1)
        bridge.results(TARGET).connect(self.on_grid)
        state.model_changed.connect(self.on_model)
        state.changed.connect(self.request)

    def on_model(self, info) -> None:
        """Toggles for the model's layers, ticked as the layers in use (the coarse ones when none is)."""
        layers = tuple(i for i in self.picker.chosen() if i < info.num_ws)
        if not self.prefilled:  # a first launch shows a grid at once
            self.prefilled = True
            self.grid.rows[:], self.grid.cols[:] = [Latent(seed=s) for s in START_ROWS], \
                [Latent(seed=s) for s in START_COLS]
            layers = ()
        # a face keeps its class while the model has it; seeds on another model take its current class (or none)
        self.grid.rows[:], self.grid.cols[:] = map(self.state.fit_latent, self.grid.rows), \
            map(self.state.fit_latent, self.grid.cols)
        self.picker.set_model(info.layer_resolutions, info.layer_labels,
                              layers or layer_ranges(info.layer_resolutions)["coarse"])

    def set_source(self, kind: str, index: int, latent: Latent) -> None:
        """Add (index == count) or replace a row/column source."""
        items = self.grid.rows if kind == "row" else self.grid.cols
        latent = self.state.fit_latent(latent)   # a dragged face keeps its class (one the model has)
        if index >= len(items):
            items.append(latent)
        else:
            items[index] = latent
        self.request()

    def remove_source(self, kind: str, index: int) -> None:
        """Drop a row/column source."""
        (self.grid.rows if kind == "row" else self.grid.cols).pop(index)
        self._forget_images()
        self.request()

    def _forget_images(self) -> None:
        """The sources changed so that the images shown (and those still on their way) are of other faces."""
        self.grid.row_images = self.grid.col_images = self.grid.cells = None
        self.grid.ready = None
        self.first_stamp = self.bridge.next_stamp()

    def set_sources(self, rows, cols, layers) -> None:
        """Show a whole grid: these row and column faces, mixed at `layers` (e.g. a saved grid opened again)."""
        self.grid.rows[:], self.grid.cols[:] = map(self.state.fit_latent, rows), map(self.state.fit_latent, cols)
        self._forget_images()
        self.picker.set_layers(layers, emit=False)
        self.request()

    def clear(self) -> None:
        """Remove every source."""
        self.grid.rows.clear()
        self.grid.cols.clear()
        self._forget_images()
        self.grid.sources_changed()

    def request(self) -> None:
        """Render sources and cells with the current settings."""
        self.grid.sources_changed()
        if not (self.grid.rows or self.grid.cols) or self.state.model is None:
            return
        self.bridge.submit(self.grid_request(self.bridge.next_stamp(), TILE))

    def grid_request(self, stamp: int = 0, thumb: int | None = None) -> RenderMixGrid:
        """The grid as shown (thumbnails of `thumb` px) or as saved (None: the model's size)."""
        return RenderMixGrid(TARGET, stamp, rows=tuple(self.grid.rows), cols=tuple(self.grid.cols),
                             layers=self.picker.chosen(), settings=self.state.settings, thumb=thumb)

    def on_grid(self, ev) -> None:
        """Show a rendered grid; a streamed one replaces the shown images as its new ones arrive."""
        if ev.stamp < self.first_stamp:   # e.g. the grid before Clear, arriving after it: its faces are gone
            return
        g, new = self.grid, (ev.row_images, ev.col_images, ev.cells)
        old = (g.row_images, g.col_images, g.cells)
        if ev.done is not None and all(o is not None and o.shape == n.shape for o, n in zip(old, new)):
            new = merge_images(old, new, ev.done)  # large models: keep the previous images until replaced
            ready = None if g.ready is None else max(g.ready, ev.done)
        else:
            ready = ev.done
        (g.row_images, g.col_images, g.cells), g.ready = new, ready
        g.update()

    def _cell(self, r: int, c: int) -> None:
        self.cell_chosen.emit(self.grid.rows[r], self.grid.cols[c], self.picker.chosen())

    def export(self, path: str | None = None) -> None:
        """Save the grid with sources as a PNG (with provenance)."""
        if not (self.grid.rows and self.grid.cols):
            self.status.emit("Add at least one row and one column face first")
            return
        path = save_name(self, "Export mixing grid", "mixing.png", "PNG (*.png)", path)
        if path:
            self.bridge.post(ExportStill(path, self.grid_request()))

