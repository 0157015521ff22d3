"""Small Qt helpers: numpy images to pixmaps, icons, the studio's latent MIME type."""
from __future__ import annotations

import json
import os

import numpy as np
from PySide6.QtCore import QEvent, QMimeData, QSize, Qt
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QFileDialog, QSizePolicy, QToolButton, QWidget

from ..engine.contract.latents import Latent, latent_from_json, latent_to_json

LATENT_MIME = "application/x-stylegan-studio-latent"


class Squeezable(QWidget):
    """Holds one widget that fills it, for a scroll area: it scrolls only below the child's minimum size.

    Why: a scroll area sizes a widget whose layout has height-for-width (any word-wrapped label) to its
    *preferred* height for the width, so a bottom dock scrolled its pane even where the whole pane fitted at
    its minimum (the Training pane's Start button was below the fold of the default window).
    """

    def __init__(self, child: QWidget) -> None:
        super().__init__()
        self.child = child
        child.setParent(self)
        child.installEventFilter(self)
        policy = self.sizePolicy()
        policy.setHeightForWidth(True)  # the scroll area then asks heightForWidth: the child's minimum for it
        self.setSizePolicy(policy)

    def eventFilter(self, obj, event) -> bool:
        if obj is self.child and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the child's minimum changed (a plot shown): the scroll area re-measures
        return False

    def resizeEvent(self, event) -> None:
        self.child.setGeometry(self.rect())

    def heightForWidth(self, width: int) -> int:
        # the least height at which wrapped labels still get their lines (grid and box layouts know it)
        layout = self.child.layout()
        return layout.minimumHeightForWidth(width) if layout and layout.hasHeightForWidth() else -1

    def minimumSizeHint(self) -> QSize:
        return self.child.minimumSizeHint().expandedTo(self.child.minimumSize())

    def sizeHint(self) -> QSize:
        return self.child.sizeHint()


def to_pixmap(img: np.ndarray, size: int | None = None) -> QPixmap:
    """uint8 [H, W, 3] → QPixmap, optionally scaled to `size` px (crisp when enlarging)."""
    img = np.ascontiguousarray(img)
    h, w = img.shape[:2]
    qimg = QImage(img.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()  # copy: numpy owns img.data
    pix = QPixmap.fromImage(qimg)
    if size and size != w:
        mode = Qt.TransformationMode.FastTransformation if size > w else Qt.TransformationMode.SmoothTransformation
        pix = pix.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, mode)
    return pix


def grey_pixmap(values: np.ndarray, size: int | None = None) -> QPixmap:
    """float [H, W] → a pixmap normalised to its own maximum (for the noise-variation map)."""
    top = float(values.max()) or 1.0
    grey = (np.clip(values / top, 0, 1) * 255).astype(np.uint8)
    return to_pixmap(np.repeat(grey[..., None], 3, axis=2), size)


def icon(name: str) -> QIcon:
    """A Font Awesome icon from qtawesome (empty icon if the font cannot load)."""
    try:
        import qtawesome  # deliberate: its font loading may fail, and an icon never fails the UI
        return qtawesome.icon(name)
    except Exception:  # icons are decoration; never fail the UI over one
        return QIcon()


def compact(button: QToolButton) -> QToolButton:
    """A tool button as tall as a push button and as narrow as its text (and icon)."""
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
    return button


def latent_to_mime(latent: Latent) -> QMimeData:
    """Drag payload carrying a face: a seed, a position in seed space or an explicit w, with its class and edit."""
    mime = QMimeData()
    mime.setData(LATENT_MIME, json.dumps(latent_to_json(latent)).encode())
    mime.setText(latent.label())
    return mime


def latent_from_mime(mime: QMimeData) -> Latent | None:
    """The latent a drop carries, or None."""
    if not mime.hasFormat(LATENT_MIME):
        return None
    try:
        return latent_from_json(json.loads(bytes(mime.data(LATENT_MIME)).decode()))
    except ValueError:  # SpecError (anything but a latent) and a payload that is not JSON
        return None


class AcceptsFaces:
    """Mixin for a widget a face (a dragged latent) can be dropped on anywhere: it calls `face_dropped(latent)`."""

    def face_dropped(self, latent: Latent) -> None:
        raise NotImplementedError

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if latent_from_mime(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        latent = latent_from_mime(event.mimeData())
        if latent is not None:
            self.face_dropped(latent)
            event.acceptProposedAction()


def sentence(text: str) -> str:
    """A message as a line in the window: its first word capitalised (the engine's errors start lowercase, to be
    quoted after "error:" on the command line); a first word that is a file name stays as it is."""
    first = text.split(" ", 1)[0]
    return text[:1].upper() + text[1:] if first.isalpha() else text


def absolute(path: str) -> str:
    """A typed path as the engine should get it: `~` expanded and made absolute, so that the file lands, and its
    "Saved" line names it, where the user can find it whatever folder the studio was started in."""
    return os.path.abspath(os.path.expanduser(path.strip())) if path.strip() else ""


def save_name(parent, title: str, default: str, filters: str, path: str | None = None) -> str:
    """A file name to save to (asked for unless given), with `default`'s extension added when typed without one."""
    if not path:
        path = QFileDialog.getSaveFileName(parent, title, default, filters)[0]
    if path and not os.path.splitext(os.path.basename(path))[1]:
        path += os.path.splitext(default)[1]   # Qt's own dialog saves "grid" as "grid", not "grid.png"
    return path
