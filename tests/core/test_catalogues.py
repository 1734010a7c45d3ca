"""The Vietnamese catalogue holds every message the code and templates use, each translated."""

import logging

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import core
from core import ROOT, create_app

METHODS = [
    ("core/**.py", "python"),
    ("survey/**.py", "python"),
    ("feedback/**.py", "python"),
    ("analysis/**.py", "python"),
    ("templates/**.html", "jinja2"),
]


def catalogue(language: str):
    with open(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=language)


def used_messages() -> set[str]:
    """Every msgid the code and templates hand to gettext, as `make catalogues` extracts them."""
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, METHODS, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_in_use_has_a_vietnamese_translation():
    vi = catalogue("vi")
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in vi
        if m.id and m.string and all(m.string if isinstance(m.string, tuple) else [m.string])
    }
    used = used_messages()
    assert len(used) > 300  # the extraction found the app's messages, not nothing
    assert sorted(used - translated) == [], "run `make catalogues` and translate these"


def test_no_vietnamese_translation_is_fuzzy_or_left_over():
    vi = catalogue("vi")
    assert [m.id for m in vi if m.id and m.fuzzy] == []
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in vi if m.id}
    assert sorted(ids - used_messages()) == [], "run `make catalogues` to drop these"


def test_a_missing_compiled_catalogue_is_said_at_start(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(core, "ROOT", tmp_path)  # a checkout whose catalogues were not compiled
    with caplog.at_level(logging.WARNING):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    assert "messages.mo is missing" in caplog.text and "pybabel compile" in caplog.text
    caplog.clear()
    monkeypatch.undo()
    with caplog.at_level(logging.WARNING):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    assert "messages.mo is missing" not in caplog.text  # this checkout's are compiled
