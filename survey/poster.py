"""Print-ready posters with a survey point's QR code (being written)."""

FORMATS = {"pdf": "application/pdf", "png": "image/png", "svg": "image/svg+xml"}
PAPER_SIZES = {"A4": (210, 297), "A5": (148, 210)}


def make_poster(unit_name: str, url: str, fmt: str, size: str = "A4") -> bytes:
    raise NotImplementedError
