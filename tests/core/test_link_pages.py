"""The link's page: a password reset's and an invitation's share one form, each in its own
words, in English and in Vietnamese."""

import re
from datetime import timedelta

import pytest

from core.accounts import create_account
from core.extensions import db
from core.models import LinkPurpose, Role
from core.password_reset import new_link
from tests.conftest import new_client, page_forms

FIELDS = {"csrf_token", "username", "password", "confirm"}
WORDS = {
    LinkPurpose.RESET: {
        "en": [
            "Choose a new password",
            "For the account lan@x.vn.",
            "At least 10 characters. Every session of your account ends; then you sign in "
            "with the new password.",
            "Set the new password",
        ],
        "vi": ["Chọn mật khẩu mới"],
    },
    LinkPurpose.INVITATION: {
        "en": [
            "Welcome: choose your password",
            "A staff account has been made for you: lan@x.vn. Choose its password; "
            "nobody else knows it.",
            "At least 10 characters. Then you sign in with it.",
            "Set my password",
        ],
        "vi": ["Chào mừng: hãy chọn mật khẩu"],
    },
}


def page_of(app, purpose: LinkPurpose, user, language: str) -> str:
    """The page of a fresh link of this purpose, read in this language."""
    token = new_link(user, purpose, language, timedelta(hours=1), mailed=False)
    db.session.commit()
    client = new_client(app, language)
    response = client.get(f"/login/reset/{token}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def texts(html: str) -> list[str]:
    """The title, then each piece of text of the page's main part, as a reader sees them."""
    [title] = re.findall(r"<title>([^<]*)</title>", html)
    [main] = re.findall(r"<main[^>]*>(.*)</main>", html, re.DOTALL)
    pieces = (p.strip() for p in re.split(r"<[^>]+>", main))
    return [title, *(" ".join(p.split()) for p in pieces if p)]


@pytest.mark.parametrize("purpose", list(LinkPurpose))
def test_each_link_page_says_its_own_words_around_the_same_form(app, mailbox, tree, purpose):
    lan = create_account("lan@x.vn", Role.ANALYST, None, None, actor=None)
    html = page_of(app, purpose, lan, "en")
    heading, intro, note, button = WORDS[purpose]["en"]
    assert texts(html) == [heading, heading, intro, "New password", "New password again",
                           note, button]  # fmt: skip
    other = WORDS[LinkPurpose.INVITATION if purpose is LinkPurpose.RESET else LinkPurpose.RESET]
    assert not any(words in html for words in other["en"])
    [form] = page_forms(html)
    assert form["action"] is None and set(form["fields"]) == FIELDS
    assert form["fields"]["username"] == "lan@x.vn"
    assert len(re.findall(r'type="password"[^>]*autocomplete="new-password"', html)) == 2
    vietnamese = page_of(app, purpose, lan, "vi")
    assert f"<h1>{WORDS[purpose]['vi'][0]}</h1>" in vietnamese
    assert other["vi"][0] not in vietnamese
