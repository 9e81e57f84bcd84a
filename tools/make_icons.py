"""Writes assets/icons/sheaf.ico (Windows) and sheaf.icns (macOS) from sheaf.png, for build.spec.

Run it again after changing sheaf.png; it needs Pillow, which Sheaf itself does not ship::

    python -m venv /tmp/icons && /tmp/icons/bin/pip install pillow
    /tmp/icons/bin/python tools/make_icons.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

ICONS = Path(__file__).resolve().parent.parent / "assets" / "icons"
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]


def main() -> None:
    image = Image.open(ICONS / "sheaf.png").convert("RGBA")
    image.save(ICONS / "sheaf.ico", sizes=ICO_SIZES)
    # The .icns takes the largest size and Pillow writes the smaller ones from it.
    image.resize((512, 512), Image.Resampling.LANCZOS).save(ICONS / "sheaf.icns")
    for name in ("sheaf.ico", "sheaf.icns"):
        print(f"{ICONS / name}: {(ICONS / name).stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
