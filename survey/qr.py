"""QR codes as module matrices and as SVG, for posters, counter screens and receipts."""

import re
from base64 import b64encode
from xml.sax.saxutils import quoteattr

QUIET_ZONE = 4  # modules of white around the code, as the standard asks


def qr_matrix(url: str) -> tuple[tuple[bool, ...], ...]:
    """Encode url as a QR matrix with error correction M and a four-module quiet zone."""
    import qrcode  # here: only QR pages and commands need it, not every start

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
    code.add_data(url)
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


def qr_path(matrix: tuple[tuple[bool, ...], ...]) -> str:
    """Trace the dark modules as one rectangle per horizontal run, in module units."""
    runs = []
    for r, row in enumerate(matrix):
        for match in re.finditer(r"1+", "".join("1" if dark else "0" for dark in row)):
            length = match.end() - match.start()
            runs.append(f"M{match.start()} {r}h{length}v1h-{length}z")
    return "".join(runs)


def qr_svg(url: str, label: str) -> str:
    """Return a standalone SVG of the QR code for url; label is its accessible name."""
    matrix = qr_matrix(url)
    size = len(matrix)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'shape-rendering="crispEdges" role="img" aria-label={quoteattr(label)}>'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path d="{qr_path(matrix)}" fill="#000"/></svg>'
    )


def qr_data_uri(url: str, label: str) -> str:
    """Return the QR code as a data: URI for an <img>, allowed by the pages' CSP."""
    return "data:image/svg+xml;base64," + b64encode(qr_svg(url, label).encode()).decode()
