"""The window opens where and as large as it was last closed (per data folder)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

STATE_FILE = "window.json"
DEFAULT = {"width": 1200, "height": 800}
MIN_WIDTH, MIN_HEIGHT = 720, 520


def load(data_dir: Path) -> dict[str, int]:
    """Saved size and position, checked; the default size when there is nothing usable."""
    try:
        raw = json.loads((Path(data_dir) / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return dict(DEFAULT)
    state = dict(DEFAULT)
    if isinstance(raw, dict):
        for key in ("width", "height", "x", "y"):
            value = raw.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and -10_000 < value < 20_000:
                state[key] = value
    state["width"] = max(MIN_WIDTH, state["width"])
    state["height"] = max(MIN_HEIGHT, state["height"])
    if state.get("x", 0) < 0 or state.get("y", 0) < 0:  # off screen: let the system place it
        state.pop("x", None)
        state.pop("y", None)
    return state


def save(data_dir: Path, window: Any) -> None:
    try:
        state = {"width": window.width, "height": window.height, "x": window.x, "y": window.y}
        (Path(data_dir) / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
    except (OSError, AttributeError, TypeError):
        pass  # remembering the size is a nicety, never a reason to fail closing
