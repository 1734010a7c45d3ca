"""A PAKN whose photos together pass the request's size limit: a page that says what to send."""

import html

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from core.extensions import db
from feedback.models import Case
from feedback.settings import request_size_limit
from tests.feedback.test_citizen import send

TOO_LARGE = (
    "The photos were too large together, so nothing was sent: send at most %(n)s photos of "
    "at most %(mb)s MB each, or send the PAKN without photos."
)
BACK = "Back to the PAKN form"
PHOTO = b"\xff\xd8\xff\xe0" + bytes(8 * 1024 * 1024 - 4)  # about 8 MB: the body is never read


def said(app, locale: str, text: str, **values) -> str:
    """The message as the catalogue says it in this language, read at test time."""
    with app.test_request_context(), force_locale(locale):
        return gettext(text, **values)


def cases() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_four_large_photos_say_what_to_send_and_lead_back_to_the_counters_form(
    client, app, point, locale
):
    url = f"/pakn/new?point={point.token}"
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = locale
    files = [(f"{i}.jpg", PHOTO) for i in range(4)]
    assert 4 * len(PHOTO) > request_size_limit() > 3 * len(PHOTO)  # three would go through
    response = send(client, url, files=files)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 413
    assert f'<html lang="{locale}">' in page
    assert said(app, locale, TOO_LARGE, n=3, mb="8") in page
    assert said(app, locale, "What you sent is too large.") not in page
    assert f'<a href="{url}">{said(app, locale, BACK)}</a>' in page
    assert said(app, locale, "Sorry") in page
    assert cases() == 0
    assert client.get(url).status_code == 200


def test_the_sizes_said_are_the_settings_in_the_readers_way_of_writing_numbers(client, app, tree):
    app.config.update(FEEDBACK_PHOTOS_MAX=2, FEEDBACK_PHOTO_MAX_BYTES=3 * 1024**2 // 2)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "vi"
    url = "/pakn/new?unit=26734"
    response = send(client, url, files=[("a.jpg", bytes(4 * 1024**2))])
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 413 and cases() == 0
    assert said(app, "vi", TOO_LARGE, n=2, mb="1,5") in page
    assert f'<a href="{url}">' in page


def test_other_pages_keep_the_plain_message(client, app, make_case):
    case = make_case()
    response = client.post(f"/track/{case.code}/rating", data={"satisfied": "x" * 100_000})
    page = response.get_data(as_text=True)
    assert response.status_code == 413
    assert "What you sent is too large." in page and BACK not in page
