"""Native dialogs run on the window's GUI thread; this module gets them there.

Who shows a dialog where (read from pywebview 6.2's platforms):

- **Qt**: ``create_file_dialog`` and ``create_confirmation_dialog`` emit a signal, queued to the
  GUI thread, and the caller waits on a semaphore. From a server thread that is right; on the
  GUI thread the signal is delivered directly, which works too.
- **Cocoa**: both are scheduled with ``AppHelper.callAfter`` on the main thread and the caller
  waits on a semaphore. From a server thread that is right; called *on the main thread* the
  main thread waits for work queued behind itself: a deadlock. So Sheaf never shows a dialog
  from code that runs on the main thread (pywebview's event handlers such as ``closing``): it
  starts it from another thread (desktop.lifecycle.CloseGuard).
- **WinForms**: both run on the *calling* thread (``dialog.ShowDialog(form)``,
  ``MessageBox.Show``). A server thread is an MTA thread with no message loop, where a file
  dialog fails or hangs, and owning a form across threads is not allowed. So Sheaf hands the
  call to the form's own thread with ``Control.Invoke`` (``window.native`` is the form), as
  pywebview itself does for its other window calls.

The rule, then: call :func:`on_gui_thread` from any thread except the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

Invoke = Callable[[Any, Callable[[], None]], None]


def _winforms_invoke(form: Any, run: Callable[[], None]) -> None:
    """Run ``run`` on ``form``'s thread and wait (``Control.Invoke``; pythonnet's delegate)."""
    from System import Func, Type  # pythonnet, Windows only

    form.Invoke(Func[Type](run))


def needs_marshalling(native: Any) -> bool:
    """True for a WinForms form called from a thread other than its own. Only WinForms
    controls have ``InvokeRequired``; Qt's and Cocoa's windows have no such attribute."""
    try:
        return bool(getattr(native, "InvokeRequired", False))
    except Exception:  # a foreign object's attribute lookup may raise anything
        return False


def on_gui_thread(window: Any, call: Callable[[], T], invoke: Invoke | None = None) -> T:
    """``call()``, run where its platform needs it (see the module's notes); its result, or
    its exception raised here. ``invoke`` replaces ``Control.Invoke`` in tests."""
    native = getattr(window, "native", None)
    if native is None or not needs_marshalling(native):
        return call()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # carried back to the caller's thread
            outcome["error"] = exc

    (invoke or _winforms_invoke)(native, run)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
