"""The window opens where and as large as it was last closed (per data folder)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

STATE_FILE = "window.json"
DEFAULT = {"width": 1200, "height": 800}
MIN_WIDTH, MIN_HEIGHT = 720, 520
#: Beyond these a saved number is damage, not a place: no screen is 20,000 points wide.
LOWEST, HIGHEST = -10_000, 20_000


def _whole(value: Any) -> int | None:
    """``value`` as a whole number of points, or None when it is not one. Cocoa reports sizes
    as floats (an NSRect's width, 1200.0 or 1199.5 on a scaled screen), Qt and WinForms as
    ints, and an older file may hold either, or a number as text: all are accepted, rounded."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float) or not math.isfinite(value):
        return None
    whole = round(value)
    return whole if LOWEST < whole < HIGHEST else None


def load(data_dir: Path) -> dict[str, int]:
    """Saved size and position, checked; the default size when there is nothing usable."""
    try:
        raw = json.loads((Path(data_dir) / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return dict(DEFAULT)
    state = dict(DEFAULT)
    if isinstance(raw, dict):
        for key in ("width", "height", "x", "y"):
            value = _whole(raw.get(key))
            if value is not None:
                state[key] = value
    state["width"] = max(MIN_WIDTH, state["width"])
    state["height"] = max(MIN_HEIGHT, state["height"])
    if "x" not in state or "y" not in state or state["x"] < 0 or state["y"] < 0:
        # Off screen, or half a position: let the system place it.
        state.pop("x", None)
        state.pop("y", None)
    return state


def save(data_dir: Path, window: Any) -> None:
    """Remember the window's size and place, as whole numbers whatever the system reports."""
    try:
        state = {key: _whole(getattr(window, key)) for key in ("width", "height", "x", "y")}
        state = {key: value for key, value in state.items() if value is not None}
        (Path(data_dir) / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
    except (OSError, AttributeError, TypeError, ValueError):
        pass  # remembering the size is a nicety, never a reason to fail closing
