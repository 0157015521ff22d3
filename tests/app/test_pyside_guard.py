"""Guard against PySide6 6.12.0's None-refcount bug on Python 3.11 (platform.md): void calls must not leak."""
import sys

from PySide6.QtWidgets import QLabel


def test_void_qt_calls_keep_none_refcount(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for i in range(500):
        label.setText(str(i))
    assert sys.getrefcount(None) >= before - 10
