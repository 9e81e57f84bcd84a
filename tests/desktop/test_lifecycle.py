"""Closing the window, remembering it, and the log: the parts that need no screen."""

import json
import logging
import os
import sqlite3
from types import SimpleNamespace

from desktop import lifecycle, window_state
from server.logs import configure_logging


class StubWindow:
    def __init__(self, answer=True):
        self.answer, self.asked = answer, []
        self.width, self.height, self.x, self.y = 1000, 700, 40, 30

    def create_confirmation_dialog(self, title, message):
        self.asked.append(title)
        return self.answer


def test_closing_with_nothing_running_needs_no_question():
    window = StubWindow()
    assert lifecycle.confirm_close(window, SimpleNamespace(busy=lambda: []))
    assert window.asked == []


def test_closing_during_an_import_asks_first():
    runner = SimpleNamespace(busy=lambda: [7])
    keep_open = StubWindow(answer=False)
    assert not lifecycle.confirm_close(keep_open, runner)
    assert keep_open.asked == ["An import is still running"]
    assert lifecycle.confirm_close(StubWindow(answer=True), runner)


def test_shutting_down_cancels_imports_and_empties_the_wal(app, people):
    calls = []
    app.extensions["sheaf.imports"] = SimpleNamespace(
        shutdown=lambda cancel: calls.append(("imports", cancel))
    )
    lifecycle.shut_down(app, SimpleNamespace(close=lambda: calls.append(("server", None))))
    assert calls == [("imports", True), ("server", None)]
    wal = app.config["DATABASE_PATH"].with_name("sheaf.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    assert sqlite3.connect(app.config["DATABASE_PATH"]).execute(
        "PRAGMA integrity_check"
    ).fetchone() == ("ok",)


def test_the_window_reopens_as_it_was_closed(tmp_path):
    assert window_state.load(tmp_path) == {"width": 1200, "height": 800}
    window_state.save(tmp_path, StubWindow())
    assert window_state.load(tmp_path) == {"width": 1000, "height": 700, "x": 40, "y": 30}


def test_a_damaged_or_odd_window_file_falls_back_safely(tmp_path):
    (tmp_path / "window.json").write_text("{not json")
    assert window_state.load(tmp_path) == {"width": 1200, "height": 800}
    (tmp_path / "window.json").write_text(
        json.dumps({"width": 100, "height": "tall", "x": -5000, "y": 10, "extra": 1})
    )
    assert window_state.load(tmp_path) == {"width": 720, "height": 800}


def test_cocoa_floats_are_remembered_as_whole_points(tmp_path):
    """Cocoa reports an NSRect's size as floats; they used to be refused on the next start, so
    the window on a Mac always reopened at the default size."""
    window = StubWindow()
    window.width, window.height, window.x, window.y = 1199.5, 700.25, 40.0, 30.7
    window_state.save(tmp_path, window)
    assert json.loads((tmp_path / "window.json").read_text()) == {
        "width": 1200,
        "height": 700,
        "x": 40,
        "y": 31,
    }
    assert window_state.load(tmp_path) == {"width": 1200, "height": 700, "x": 40, "y": 31}


def test_a_saved_file_of_floats_or_numbers_as_text_is_read(tmp_path):
    (tmp_path / "window.json").write_text(
        json.dumps({"width": 1300.0, "height": " 900.4 ", "x": "12", "y": 8.6})
    )
    assert window_state.load(tmp_path) == {"width": 1300, "height": 900, "x": 12, "y": 9}


def test_odd_numbers_are_clamped_or_dropped(tmp_path):
    (tmp_path / "window.json").write_text('{"width": NaN, "height": 1e300, "x": Infinity, "y": 10}')
    assert window_state.load(tmp_path) == {"width": 1200, "height": 800}  # half a place: none
    (tmp_path / "window.json").write_text(
        json.dumps({"width": 10.0, "height": "0.5", "x": True, "y": False})
    )
    assert window_state.load(tmp_path) == {"width": 720, "height": 520}
    (tmp_path / "window.json").write_text(json.dumps({"width": 25_000.0, "x": -3.2, "y": 5}))
    assert window_state.load(tmp_path) == {"width": 1200, "height": 800}


def test_errors_are_logged_in_the_data_folder(tmp_path):
    path = configure_logging(tmp_path)
    try:
        logging.getLogger("server").error("a test failure")
        for handler in logging.getLogger().handlers:
            handler.flush()
        text = path.read_text(encoding="utf-8")
        assert "Sheaf started on" in text and "ERROR server: a test failure" in text
        if os.name == "posix":  # Windows: an access list (tests/test_private_files.py)
            assert path.parent.stat().st_mode & 0o777 == 0o700
    finally:
        root = logging.getLogger()
        for handler in list(root.handlers):
            if getattr(handler, "baseFilename", "") == str(path):
                root.removeHandler(handler)
                handler.close()
