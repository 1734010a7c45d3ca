"""What the password-reset tests share: the pages' forms, the e-mailed link, the rows."""

import re

from core.extensions import db
from core.models import PasswordReset
from core.reset_mailer import send_due
from tests.conftest import page_forms

ASK = "/login/reset"
LINK = re.compile(r"^http://survey\.test/login/reset/([A-Za-z0-9_-]{43})$", re.MULTILINE)
NEW_PASSWORD = "a brand new passphrase"


def form_of(html: str, action: str | None = None) -> dict:
    """The fields of the page's form that posts to action (None: to the page itself)."""
    return next(f for f in page_forms(html) if f["action"] == action)["fields"]


def ask(client, email: str):
    """Ask for a link through the real page, as a browser sends its form."""
    html = client.get(ASK).get_data(as_text=True)
    return client.post(ASK, data=form_of(html, ASK) | {"email": email})


def choose(client, token: str, password=NEW_PASSWORD, confirm=None):
    """Set a new password through the link's page (its form, whatever the page's state)."""
    url = f"{ASK}/{token}"
    page = client.get(url)
    fields = form_of(page.get_data(as_text=True)) if page.status_code == 200 else {}
    if not fields:  # the page has no form: post what a form of an earlier visit held
        fields = {"csrf_token": csrf_of(client)}
    return client.post(url, data=fields | {"password": password, "confirm": confirm or password})


def csrf_of(client) -> str:
    html = client.get(ASK).get_data(as_text=True)
    return form_of(html, ASK)["csrf_token"]


def delivered_link(mailbox, now) -> tuple[str, object]:
    """Send what is due, as cron's `users mail` does; return the one message's token and it."""
    run = send_due(now)
    assert run.sent == 1, run
    _sender, _recipients, message, _envelope = mailbox.only()
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    [token] = LINK.findall(text)
    return token, message


def rows() -> list[PasswordReset]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(PasswordReset).order_by(PasswordReset.id)))
