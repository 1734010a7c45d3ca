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
