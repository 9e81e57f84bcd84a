"""Run by the packaged app at start (a PyInstaller runtime hook; see build.spec) in place of
PyInstaller's own PySide6 hook, which imports QtCore in every start: 0.1 s and the Qt
libraries loaded even for ``sheaf serve``, ``--version`` and an import's helper process.
Qt itself is imported only when the window opens; these paths tell it where its plugins are
(PySide6 makes its Qt relocatable when it is first imported)."""

import os
import sys

if getattr(sys, "frozen", False):
    _qt = os.path.join(sys._MEIPASS, "PySide6", "Qt")
    os.environ.setdefault("QT_PLUGIN_PATH", os.path.join(_qt, "plugins"))
    os.environ.setdefault("QML2_IMPORT_PATH", os.path.join(_qt, "qml"))
