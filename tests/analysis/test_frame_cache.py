"""The warm servers' response arrays: new responses are appended, exclusions reload."""

from dataclasses import fields

import numpy as np

from analysis import frame
from core.extensions import db
from survey.importer import import_responses
from survey.integrity import exclude_response
from survey.models import CRITERIA, Response

HEADER = "unit_code,submitted_at,channel," + ",".join(CRITERIA) + ",HK\n"


def add(rows: list[str]) -> None:
    import_responses((HEADER + "\n".join(rows) + "\n").encode())
    db.session.commit()


def line(unit, when, value, hk="no", channel="static"):
    return f"{unit},{when},{channel}," + ",".join([value] * len(CRITERIA)) + f",{hk}"


def same(a: frame.ResponseFrame, b: frame.ResponseFrame) -> bool:
    return all(np.array_equal(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))


def test_new_responses_are_appended_and_match_a_full_read(tree, questionnaire, monkeypatch):
    add([line("26734", "2025-03-01 09:00", "4"), line("26737", "2025-03-02 00:00", "2")])
    first = frame.cached_frame()
    assert len(first) == 2
    add([line("26800", "2025-03-03 10:00", "5", hk="yes", channel="paper")])

    reads = []
    real = frame.load_frame
    monkeypatch.setattr(frame, "load_frame", lambda **kw: reads.append(kw) or real(**kw))
    second = frame.cached_frame()
    assert reads == [{"after_id": max(r.id for r in db.session.scalars(db.select(Response)))
                      - 1}]  # fmt: skip
    assert len(second) == 3 and same(second, real())
    assert frame.cached_frame() is second  # nothing new: no read at all
    assert len(reads) == 1


def test_an_exclusion_reloads_everything(tree, questionnaire, make_user):
    add([line("26734", "2025-03-01 09:00", "4"), line("26734", "2025-03-01 10:00", "1")])
    assert len(frame.cached_frame()) == 2
    user = make_user("h@x.vn", "admin")
    exclude_response(db.session.scalars(db.select(Response)).first(), user, "thử nghiệm")
    db.session.commit()
    after = frame.cached_frame()
    assert len(after) == 1 and same(after, frame.load_frame())


def test_frames_are_in_unit_day_id_order_whatever_the_key_widths():
    # Days 0 and 70,000 do not fit a 16-bit key, nor do 70,001 units: the wide sort is used.
    for units in ([9, 3, 9, 3, 3, 9], [9, 3, 9, 3, 3, 70_001]):
        for days in ([20_100, 20_100, 20_050, 20_200, 20_050, 20_100], [70_000, 0, 5, 0, 5, 1]):
            columns = {
                "id": np.arange(1, 7), "unit_id": np.array(units), "day": np.array(days),
                "channel": np.zeros(6), "questionnaire_id": np.ones(6), "hk": np.zeros(6, bool),
                "answers": np.arange(6)[:, None].repeat(len(CRITERIA), 1),
            }  # fmt: skip
            f = frame._frame(columns)
            expected = sorted(range(6), key=lambda i: (units[i], days[i], i))
            assert f.answers[:, 0].tolist() == expected  # answers carry the row number
            assert f.unit_day_keys().tolist() == sorted(f.unit_day_keys().tolist())
