"""The central viewer: the current image, fit-to-window or 1:1, crisp or smooth, with an info line."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from .qtutil import AcceptsFaces, to_pixmap


class ElidedLabel(QLabel):
    """One line elided to its width (full text in the tooltip): a long caption never widens the window."""

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.set_full_text(text)

    def set_full_text(self, text: str) -> None:
        """Show `text`, elided if it does not fit."""
        self.full = text
        self.setToolTip(text)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self.full, Qt.TextElideMode.ElideRight, max(0, self.width())))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._elide()

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(0, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(0, super().sizeHint().height())


class ImageViewer(AcceptsFaces, QWidget):
    """Shows one image; accepts latent drops (shows the dropped face); a drag with Shift held (or any drag in
    travel mode) reports how far it has moved, in image sides, for travelling through seed space."""

    latent_dropped = Signal(object)
    travel_started = Signal()
    travel_moved = Signal(float, float)   # offset from where the drag began, in sides of the shown image
    travel_ended = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.image: np.ndarray | None = None
        self.fit = True
        self.crisp = True   # small outputs (64²) enlarged with nearest neighbour: pixels stay sharp, not blurred
        self.label = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.label.setMinimumSize(128, 128)
        self.label.setStyleSheet("background: #202124;")
        self.scroll = QScrollArea(widgetResizable=True)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)   # 1:1 images smaller than the view sit centred
        self.scroll.setWidget(self.label)
        self.info = ElidedLabel("Opening model…")
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.scroll, 1)
        lay.addWidget(self.info)
        self.setAcceptDrops(True)
        self.travel_mode = False
        self._drag_from = None           # where a travel drag began (label pixels), None when not travelling
        self.label.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802
        """Mouse drags on the image: a travel through seed space (Shift held, or travel mode)."""
        kind = event.type()
        if obj is not self.label or kind not in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
                                                 QEvent.Type.MouseButtonRelease):
            return super().eventFilter(obj, event)
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton and \
                (self.travel_mode or event.modifiers() & Qt.KeyboardModifier.ShiftModifier):
            self._drag_from = event.position()
            self.travel_started.emit()
            return True
        if self._drag_from is None:
            return False
        side = float(max(1, self.label.pixmap().width() if self.label.pixmap() else self.label.width()))
        d = event.position() - self._drag_from
        self.travel_moved.emit(d.x() / side, d.y() / side)
        if kind == QEvent.Type.MouseButtonRelease:
            self._drag_from = None
            self.travel_ended.emit()
        return True

    def set_travel_mode(self, on: bool) -> None:
        """In travel mode any left drag travels (otherwise only with Shift held)."""
        self.travel_mode = bool(on)
        self.label.setCursor(Qt.CursorShape.OpenHandCursor if on else Qt.CursorShape.ArrowCursor)

    def show_image(self, img: np.ndarray, info: str) -> None:
        """Display a new frame and its description."""
        self.image = img
        self.info.set_full_text(info)
        self._refresh()

    def set_crisp(self, crisp: bool) -> None:
        """Enlarge with nearest neighbour (True) or smoothly (False); shrinking is always smooth."""
        self.crisp = crisp
        self._refresh()

    def set_fit(self, fit: bool) -> None:
        """Fit to the window (True) or show pixels 1:1 (False)."""
        self.fit = fit
        self.scroll.setWidgetResizable(fit)
        self._refresh()

    def _refresh(self) -> None:
        if self.image is None:
            return
        pix = to_pixmap(self.image)
        if self.fit:
            side = max(1, min(self.scroll.viewport().width(), self.scroll.viewport().height()) - 8)
            crisp = self.crisp and side > pix.width()
            mode = Qt.TransformationMode.FastTransformation if crisp else Qt.TransformationMode.SmoothTransformation
            pix = pix.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, mode)
        else:
            self.label.resize(pix.size())
        self.label.setPixmap(pix)

    def pixmap(self) -> QPixmap | None:
        """What is shown (for tests and screenshots)."""
        return self.label.pixmap()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._refresh()

    def face_dropped(self, latent) -> None:
        """A face dropped on the image: the window shows it."""
        self.latent_dropped.emit(latent)
