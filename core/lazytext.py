"""Translatable text resolved when it is shown (a form's label, a refusal's message), in the
language of the request that shows it."""

from flask_babel import gettext
from flask_babel.speaklater import LazyString
from markupsafe import escape


class LazyText(LazyString):
    """Flask-Babel's lazy string, escaped in a template like any str.

    Flask-Babel's own hands its text to Jinja as safe HTML (its __html__ returns the text as it
    is), so a message quoting what someone sent, such as a line of an imported file, would reach
    the page as markup.
    """

    def __html__(self) -> str:
        return str(escape(str(self)))


def lazy_gettext(string: str, **variables) -> LazyText:
    """gettext, put off until the text is shown."""
    return LazyText(gettext, string, **variables)
