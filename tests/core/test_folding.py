"""Text folded without case or accents, alike in Python and in the database of the run."""

import unicodedata

import pytest
from sqlalchemy import literal, select

from core.extensions import db
from core.folding import fold, folded

WORDS = [
    "ĐƯỜNG", "Đường", "Phường Bến Nghé", "Huyện Đồng Xuân", "Xã Ấp Bắc", "Cảm ơn cán bộ",
    "Thủ tục HỘ TỊCH", "Quá chậm, phải chờ 3 giờ!", "100% hài lòng", "Ỷ Ỵ ỹ Ữ ợ",
]  # fmt: skip


def test_fold_drops_case_and_every_vietnamese_mark():
    assert fold("ĐƯỜNG Vào Khó Tìm") == "duong vao kho tim"
    assert fold("Ỷ Ỵ ỹ Ữ ợ") == "y y y u o"
    assert fold(unicodedata.normalize("NFD", "Đồng Xuân")) == "dong xuan"
    assert fold("a_b 100% O'Neil") == "a_b 100% o'neil"


@pytest.mark.parametrize("word", WORDS)
def test_the_database_folds_as_python_does(app, word):
    assert db.session.scalar(select(folded(literal(word)))) == fold(word)
