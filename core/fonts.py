"""The typeface the app draws with where it makes images: DejaVu Sans, which covers Vietnamese."""

from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent.parent / "static" / "fonts"
FONT_FILES = {False: FONT_DIR / "DejaVuSans.ttf", True: FONT_DIR / "DejaVuSans-Bold.ttf"}
