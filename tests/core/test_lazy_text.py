"""Lazy translatable text is escaped in templates like any other text."""

from flask import render_template_string
from flask_babel import force_locale
from flask_babel import lazy_gettext as flask_babel_lazy_gettext

from core.lazytext import lazy_gettext

HOSTILE = "<script>alert(1)</script>"


def test_a_lazy_message_quoting_what_someone_sent_is_escaped_in_a_page(app):
    message = lazy_gettext("unknown unit_code %(value)s", value=HOSTILE)
    with app.test_request_context():
        page = render_template_string("<p>{{ message }}</p>", message=message)
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_flask_babels_own_lazy_string_would_have_passed_it_as_markup(app):
    # Why core.lazytext exists: if this starts failing, Flask-Babel escapes its lazy strings
    # itself and core.lazytext can go.
    message = flask_babel_lazy_gettext("unknown unit_code %(value)s", value=HOSTILE)
    with app.test_request_context():
        page = render_template_string("<p>{{ message }}</p>", message=message)
    assert HOSTILE in page


def test_a_lazy_message_is_said_in_the_language_of_the_page_that_shows_it(app):
    message = lazy_gettext("unknown unit_code %(value)s", value="'X'")
    with app.test_request_context():
        with force_locale("vi"):
            vietnamese = render_template_string("{{ message }}", message=message)
        with force_locale("en"):
            english = render_template_string("{{ message }}", message=message)
    assert english == "unknown unit_code &#39;X&#39;"
    assert vietnamese == "không có đơn vị nào có mã unit_code &#39;X&#39;"
