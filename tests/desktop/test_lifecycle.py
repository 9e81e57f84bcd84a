"""Closing the window, remembering it, and the log: the parts that need no screen."""

import json
import logging
import os
import sqlite3
import threading
import time
from types import SimpleNamespace

import pytest

from desktop import gui_thread, lifecycle, window_state
from server.logs import configure_logging
from tests.desktop.helpers import fake_form_thread


class StubWindow:
    def __init__(self, answer=True):
        self.answer, self.asked = answer, []
        self.width, self.height, self.x, self.y = 1000, 700, 40, 30

    def create_confirmation_dialog(self, title, message):
        self.asked.append(title)
        return self.answer


class GuardedWindow(StubWindow):
    """A window whose GUI thread is the test's thread: a dialog asked on it fails the test, as
    it would hang on macOS (the question is queued behind the closing handler itself)."""

    def __init__(self, answer=True):
        super().__init__(answer)
        self.gui_thread = threading.get_ident()
        self.destroyed = threading.Event()
        self.answered = threading.Event()
        self.may_answer = threading.Event()
        self.may_answer.set()

    def create_confirmation_dialog(self, title, message):
        assert threading.get_ident() != self.gui_thread, "asked on the GUI thread: a deadlock"
        assert self.may_answer.wait(10)
        self.answered.set()
        return super().create_confirmation_dialog(title, message)

    def destroy(self):
        self.destroyed.set()


def guard_for(window, busy):
    remembered = []
    guard = lifecycle.CloseGuard(
        window, SimpleNamespace(busy=lambda: busy), lambda: remembered.append(window.width)
    )
    return guard, remembered


def test_closing_with_nothing_running_needs_no_question():
    window = GuardedWindow()
    guard, remembered = guard_for(window, [])
    assert guard.on_closing() is True
    assert window.asked == [] and remembered == [1000]


def test_closing_during_an_import_never_waits_for_a_dialog():
    """The closing handler answers at once (it runs on the GUI thread); the question comes
    from another thread, and a yes closes the window."""
    window = GuardedWindow(answer=True)
    window.may_answer.clear()  # the person has not answered yet
    guard, remembered = guard_for(window, [7])
    started = time.monotonic()
    assert guard.on_closing() is False  # kept open for now
    assert time.monotonic() - started < 1
    assert guard.on_closing() is False  # a second click: still one question
    window.may_answer.set()
    assert window.destroyed.wait(10)
    assert window.asked == ["An import is still running"]
    assert remembered == [1000]  # remembered before destroy (Cocoa sends no second closing)
    assert guard.on_closing() is True  # Qt and WinForms ask again on destroy: let through
    assert remembered == [1000]


def test_choosing_cancel_keeps_the_window_and_asks_again_next_time():
    window = GuardedWindow(answer=False)
    guard, remembered = guard_for(window, [7, 8])
    assert guard.on_closing() is False
    assert window.answered.wait(10)
    deadline = time.monotonic() + 10
    while guard._asking and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not window.destroyed.is_set() and remembered == []
    assert window.asked == ["2 imports are still running"]
    assert guard.on_closing() is False
    deadline = time.monotonic() + 10
    while len(window.asked) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert window.asked == ["2 imports are still running"] * 2


def test_a_failing_dialog_keeps_the_window_open():
    class Broken(GuardedWindow):
        def create_confirmation_dialog(self, title, message):
            self.answered.set()
            raise RuntimeError("no dialog")

    window = Broken()
    guard, remembered = guard_for(window, [7])
    assert guard.on_closing() is False
    assert window.answered.wait(10)
    time.sleep(0.1)
    assert not window.destroyed.is_set() and remembered == []


def test_the_question_goes_to_the_windows_gui_thread_on_winforms(monkeypatch):
    """WinForms shows a dialog on the calling thread, so the question is handed to the form's
    thread with Control.Invoke (faked here: a thread of its own stands for the form's)."""

    class WinFormsWindow(GuardedWindow):
        native = SimpleNamespace(InvokeRequired=True)

        def create_confirmation_dialog(self, title, message):
            self.dialog_thread = threading.get_ident()
            return super().create_confirmation_dialog(title, message)

    form_threads = fake_form_thread(monkeypatch, WinFormsWindow.native)
    window = WinFormsWindow()
    guard, _remembered = guard_for(window, [7])
    assert guard.on_closing() is False
    assert window.destroyed.wait(10)
    assert form_threads == [window.dialog_thread]


def test_calls_reach_the_gui_thread_with_their_result_or_error():
    def invoke(form, run):
        thread = threading.Thread(target=run)
        thread.start()
        thread.join(10)

    window = SimpleNamespace(native=SimpleNamespace(InvokeRequired=True))
    here = threading.get_ident()
    assert gui_thread.on_gui_thread(window, threading.get_ident, invoke) != here
    assert gui_thread.on_gui_thread(window, lambda: 42, invoke) == 42
    with pytest.raises(ZeroDivisionError):  # raised where it was asked
        gui_thread.on_gui_thread(window, lambda: 1 / 0, invoke)
    # Qt's and Cocoa's windows (no InvokeRequired), or on the form's own thread: called here.
    for native in (SimpleNamespace(), SimpleNamespace(InvokeRequired=False), None):
        window = SimpleNamespace(native=native)
        assert gui_thread.on_gui_thread(window, threading.get_ident, invoke) == here


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
