"""Open311 GeoReport v2 output: the same data as JSON or XML, and the spec's error format."""

import json
import re
from datetime import date, datetime, time
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from flask import Response, current_app

FORMATS = {"json": "application/json", "xml": "text/xml"}
# In XML, the element each list's members are wrapped in.
ITEM_TAGS = {
    "service_requests": "request",
    "services": "service",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}


def w3c(moment: datetime | None) -> str | None:
    """A naive UTC timestamp as W3C date-time in the product's time zone."""
    if moment is None:
        return None
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).isoformat(timespec="seconds")


def end_of_day(day: date) -> str:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day, time(23, 59, 59), zone).isoformat(timespec="seconds")


# Characters XML 1.0 cannot hold, which a pasted text may carry (a vertical tab from a word
# processor, say): left out of XML answers, which would not parse with them.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else _NOT_XML.sub("", str(value))


def _element(tag: str, value) -> ET.Element:
    node = ET.Element(tag)
    if isinstance(value, dict):
        for key, child in value.items():
            node.append(_element(key, child))
    elif isinstance(value, list):
        for child in value:
            node.append(_element(ITEM_TAGS.get(tag, "item"), child))
    else:
        node.text = _text(value)
    return node


def render(fmt: str, root: str, data, status: int = 200) -> Response:
    """Answer with data: a list (of root's members) or a dict (root itself)."""
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False)
    else:
        tree = _element(root, data)
        body = '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(tree, encoding="unicode")
    headers = {"Cache-Control": "no-store"}
    return Response(body, status=status, mimetype=FORMATS[fmt], headers=headers)


def error(fmt: str, status: int, description: str) -> Response:
    """The spec's error answer: a list of {code, description}, with the same HTTP status."""
    errors = [{"code": status, "description": description}]
    return render(fmt if fmt in FORMATS else "json", "errors", errors, status)
