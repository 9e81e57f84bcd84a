"""Whether the window gets a web engine that runs Sheaf's pages, decided before it opens.

On Windows pywebview draws the window with WebView2 (Edge's engine) when the WebView2 Runtime
is installed and .NET is 4.6.2 or newer, and otherwise falls back, without a word, to MSHTML:
Internet Explorer 11's engine, which has no ``fetch`` (every dialog, search and edit in the
pages needs it) and half of today's CSS. Windows 11 ships the runtime; Windows 10 gets it with
Edge updates, but older or locked-down PCs may lack it. Without it Sheaf serves the pages to the
browser instead, with the one-time link, as on a Linux PC without a display.

Two checks, because pywebview has no public "which engine would you use" before starting:

1. :func:`window_engine_problem` reads the registry keys Microsoft documents for detecting the
   Evergreen runtime ("Detect if a WebView2 Runtime is already installed"), the keys
   pywebview's ``winforms._is_chromium`` reads too. This avoids loading .NET at all.
2. :func:`renderer_problem` is handed the renderer pywebview actually chose (its public
   ``initialized`` event, which may cancel the window): it catches what the first check cannot
   see (an old .NET, a runtime the registry misreports).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

#: The Evergreen WebView2 Runtime's client id in EdgeUpdate's registry keys.
WEBVIEW2_RUNTIME = "{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
#: The oldest runtime pywebview accepts (``winforms._is_chromium``).
OLDEST_WEBVIEW2 = (86, 0, 622, 0)

_CLIENTS = r"Microsoft\EdgeUpdate\Clients" + "\\" + WEBVIEW2_RUNTIME
#: Where the runtime registers its version (value ``pv``): per machine on 64-bit Windows (the
#: 32-bit registry view), per machine on 32-bit Windows, and per user.
WEBVIEW2_KEYS = (
    ("HKEY_LOCAL_MACHINE", r"SOFTWARE\WOW6432Node" + "\\" + _CLIENTS),
    ("HKEY_LOCAL_MACHINE", r"SOFTWARE" + "\\" + _CLIENTS),
    ("HKEY_CURRENT_USER", r"SOFTWARE" + "\\" + _CLIENTS),
)

#: ``read(hive, key, value_name)``: the value, or None when the key or value is not there.
RegistryReader = Callable[[str, str, str], Any]

#: pywebview's renderers that cannot run the pages.
UNFIT_RENDERERS = {"mshtml": "Internet Explorer's engine (MSHTML)"}

NO_WEBVIEW2 = (
    "the Microsoft Edge WebView2 Runtime is not installed (Windows 11 has it; on Windows 10 "
    "install it from https://go.microsoft.com/fwlink/p/?LinkId=2124703)"
)


def read_windows_registry(hive: str, key: str, name: str) -> Any:
    """A registry value through ``winreg`` (Windows only), or None when it is not there."""
    import winreg  # Windows only

    try:
        with winreg.OpenKey(getattr(winreg, hive), key) as handle:
            value, _kind = winreg.QueryValueEx(handle, name)
    except OSError:
        return None
    return value


def parse_version(value: Any) -> tuple[int, ...] | None:
    """``"120.0.2210.91"`` as numbers; None for anything else. The runtime's uninstaller
    leaves ``pv`` empty or ``0.0.0.0``, which Microsoft says means "not installed"."""
    if not isinstance(value, str):
        return None
    try:
        parts = tuple(int(part) for part in value.strip().split("."))
    except ValueError:
        return None
    return parts if any(parts) else None


def webview2_version(
    read: RegistryReader, keys: Iterable[tuple[str, str]] = WEBVIEW2_KEYS
) -> tuple[int, ...] | None:
    """The newest WebView2 Runtime registered anywhere, or None."""
    found = []
    for hive, key in keys:
        try:
            version = parse_version(read(hive, key, "pv"))
        except Exception:  # an unreadable key is a key without a runtime
            version = None
        if version is not None:
            found.append(version)
    return max(found, default=None)


def window_engine_problem(platform: str, read: RegistryReader | None = None) -> str | None:
    """Why the window would not get a web engine fit for Sheaf's pages on ``platform``
    (``sys.platform``), or None when it would. Only Windows can pick an unfit one."""
    if platform != "win32":
        return None
    version = webview2_version(read or read_windows_registry)
    if version is None:
        return NO_WEBVIEW2
    if version < OLDEST_WEBVIEW2:
        shown = ".".join(map(str, version))
        return f"the Microsoft Edge WebView2 Runtime is too old ({shown}); update it"
    return None


def renderer_problem(renderer: str) -> str | None:
    """Why the renderer pywebview chose cannot run the pages, or None when it can."""
    unfit = UNFIT_RENDERERS.get(str(renderer).lower())
    if unfit is None:
        return None
    return f"the window would use {unfit}, which cannot run Sheaf's pages; {NO_WEBVIEW2}"
