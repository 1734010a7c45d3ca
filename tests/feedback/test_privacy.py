"""The check for the sender's data in published texts: names typed with or without accents."""

import unicodedata
from types import SimpleNamespace

import pytest

from feedback.privacy import holds_personal_data


def person(name=None, address=None, email=None, phone=None):
    return SimpleNamespace(name=name, address=address, email=email, phone=phone)


HOA = person(name="Nguyễn Thị Hoa", address="12 Đường Láng")
DUC = person(name="Đỗ Đức Hòa")


@pytest.mark.parametrize(
    ("text", "sender"),
    [
        ("Bà Nguyen Thi Hoa phản ánh phí sai.", HOA),
        ("BA NGUYEN THI HOA PHAN ANH PHI SAI.", HOA),
        # Decomposed (NFD) as some keyboards and macOS send it.
        (unicodedata.normalize("NFD", "Bà Nguyễn Thị Hoa phản ánh."), HOA),
        ("Bà Nguyễn  Thị\u00a0Hoa phản ánh.", HOA),
        ("Bà Nguyễn\tThị\nHoa phản ánh.", HOA),
        ("Ông Do Duc Hoa phản ánh.", DUC),
        ("Ông ĐỖ ĐỨC HOÀ phản ánh.", DUC),  # the accent placed the old way: hoà, not hòa
        ("Nhà số 12 duong Lang bị ngập.", HOA),
    ],
    ids=["no-accents", "upper-no-accents", "nfd", "double-and-no-break-space",
         "tab-and-line-break", "d-bar", "old-accent-placement", "address-no-accents"],
)  # fmt: skip
def test_the_senders_name_or_address_without_accents_is_found(text, sender):
    assert holds_personal_data(text, sender)


@pytest.mark.parametrize(
    "text",
    [
        "Chậm trả hồ sơ ở phường Hoa Lư.",  # a ward named like one word of the name
        "Đường Nguyễn Thị Minh Khai bị ngập.",  # a street sharing two of its words
        "Bà Nguyễn Thị Hoàng phản ánh.",  # a longer word is another name
        "Ông Nguyen Thi Hoan phản ánh.",
        "Thu phí sai quy định tại bộ phận một cửa đường Láng.",  # the street, not the house
    ],
)
def test_ordinary_text_is_not_refused(text):
    assert not holds_personal_data(text, HOA)


def test_a_one_word_name_or_address_is_not_looked_for():
    assert not holds_personal_data(
        "Phường Hòa Bình, đường Láng.", person(name="Hoà", address="Láng")
    )


@pytest.mark.parametrize(
    "text",
    [
        "Bà Hoa phản ánh phí sai.",
        "Đã trả lời chị Hoa qua điện thoại.",
        "CHỊ HOA ĐẾN NỘP HỒ SƠ.",
        "Cô hoa đến lần hai.",  # the name in lower case
        "Bà Thị Hoa phản ánh.",  # the last two words of the name
        "Anh Hòa",  # another accent on the same letters, as a name is often typed
        unicodedata.normalize("NFD", "Bà Hoa phản ánh."),
        "ba Hoa phan anh phi sai",  # a text typed wholly without accents
    ],
)
def test_the_sender_called_by_a_title_and_their_given_name_is_found(text):
    assert holds_personal_data(text, HOA)


@pytest.mark.parametrize(
    ("text", "sender"),
    [
        ("Bà Hoàng phản ánh.", HOA),  # another given name
        ("Hoa phản ánh phí sai.", HOA),  # no title: a one-word name is too often a word
        ("Bà, Hoa Lư là phường khác.", HOA),  # a comma parts the two words
        ("Bà Nguyễn phản ánh.", HOA),  # the family name alone names nobody
        # With accents, "có" (has) is no title, though without them it reads as "cô".
        ("Nhà văn hóa có lan can bị hỏng.", person(name="Trần Văn Lan")),
        ("ba Hoa phản ánh.", HOA),  # "ba" without its accent in an accented text: three, father
        ("Bà Hoa phản ánh.", person(name="Hoa")),  # a one-word name is not looked for
    ],
    ids=["longer-given-name", "no-title", "comma", "family-name", "co-with-accents",
         "bare-title-in-accented-text", "one-word-name"],
)  # fmt: skip
def test_a_title_before_another_word_is_not_refused(text, sender):
    assert not holds_personal_data(text, sender)
