"""The citizen's side through the real HTML forms: send, track, rate, read published answers."""

import io
import re
from datetime import datetime
from html.parser import HTMLParser

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from core.extensions import db
from core.models import utcnow
from feedback import services
from feedback.images import MAX_JPEG_SCANS, Photo, jpeg_scans
from feedback.models import Case, CaseEvent, CasePhoto
from feedback.services import apply_action
from feedback.workflow import Action
from tests.conftest import login, page_forms
from tests.feedback.conftest import handle

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def form_data(client, url, **fields):
    page = client.get(url)
    assert page.status_code == 200
    data = dict(page_forms(page.get_data(as_text=True))[-1]["fields"])
    data.pop("photos", None)
    data.update(kind="report", topic="delay", content="Tôi phải chờ ba tuần để nhận kết quả.")
    data.update(fields)
    return data


def send(client, url, files=(), **fields):
    data = form_data(client, url, **fields)
    if files:
        data["photos"] = [(io.BytesIO(raw), name) for name, raw in files]
    return client.post(url, data=data, content_type="multipart/form-data")


def jpeg(size=(800, 600), exif=True) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    kw = {}
    if exif:
        info = Image.Exif()
        info[0x010F] = "SecretCam"  # Make
        info[0x0110] = "Model X"
        kw["exif"] = info.tobytes()
    image.save(out, "JPEG", **kw)
    return out.getvalue()


def test_from_the_counter_qr_to_the_tracking_page(client, point):
    url = f"/pakn/new?point={point.token}"
    response = send(client, url, name="Lê Văn C", phone="0912 345 678", consent="y")
    assert response.status_code == 303
    case = db.session.scalar(select(Case))
    assert case.channel == "counter" and case.unit_id == point.unit_id
    assert case.person.phone == "0912 345 678"
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert f"{case.code[:5]}-{case.code[5:]}" in html
    assert "Lê Văn C" not in html and "0912" not in html  # personal data never shown back


def test_the_same_form_sent_twice_makes_one_case(client, point):
    url = f"/pakn/new?point={point.token}"
    data = form_data(client, url)
    first = client.post(url, data=data)
    second = client.post(url, data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(db.session.scalars(select(Case)).all()) == 1


def test_the_site_address_alone_leads_to_what_citizens_can_do(client, tree):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/pakn/"
    page = client.get("/pakn/").get_data(as_text=True)
    assert "/pakn/units" in page and "/track" in page


def test_from_the_web_the_unit_is_chosen_in_the_tree(client, tree):
    assert client.get("/pakn/new").headers["Location"].endswith("/pakn/units")
    roots = client.get("/pakn/units").get_data(as_text=True)
    assert "Thành phố Hồ Chí Minh" in roots and "/pakn/units?parent=79" in roots
    district = client.get("/pakn/units?parent=760").get_data(as_text=True)
    assert "/pakn/new?unit=26734" in district and "/pakn/new?unit=760" in district
    response = send(client, "/pakn/new?unit=26737")
    assert response.status_code == 303
    case = db.session.scalar(select(Case))
    assert case.channel == "web" and case.unit == tree["26737"]
    assert client.get("/pakn/new?unit=nope").status_code == 404


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"content": "short"}, "between 10 and 4,000"),
        ({"content": "a" + " " * 12}, "between 10 and 4,000"),  # counted as stored, stripped
        ({"content": "x" * 4001}, "between 10 and 4,000"),
        ({"kind": ""}, "required"),
        ({"topic": "bribes"}, "Choose one of the answers shown."),
        ({"name": "An", "consent": ""}, "please agree to their use"),  # the label says "agree"
        ({"phone": "call me", "consent": "y"}, "digits"),
        ({"email": "not-an-email", "consent": "y"}, "e-mail"),
    ],
)
def test_invalid_answers_are_explained_and_kept(client, point, fields, message):
    response = send(client, f"/pakn/new?point={point.token}", **fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert db.session.scalar(select(Case)) is None


class Elements(HTMLParser):
    """Each element's attributes by id, and the links of the error summary."""

    def __init__(self, html: str):
        super().__init__()
        self.by_id, self.links, self.in_summary = {}, [], False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.by_id[attrs["id"]] = {"tag": tag, **attrs}
        self.in_summary = self.in_summary or attrs.get("id") == "errors"
        if self.in_summary and tag == "a":
            self.links.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "div":
            self.in_summary = False


def test_a_screen_reader_hears_each_fields_own_error_and_the_summary_leads_to_it(client, point):
    url = f"/pakn/new?point={point.token}"
    html = send(client, url, kind="", content="short", name="An", email="x@", consent="")
    html = html.get_data(as_text=True)
    wrong = {"kind": "required", "content": "between 10 and 4,000", "email": "not valid",
             "consent": "agree"}  # fmt: skip
    page = assert_described(html, wrong)
    assert "aria-describedby" not in page.by_id["topic"]
    assert "aria-invalid" not in page.by_id["name"]
    # The photos are checked once the rest is right.
    html = send(client, url, files=[("notes.txt", b"hello")]).get_data(as_text=True)
    assert_described(html, {"photos": "not a JPEG or PNG"})


def assert_described(html: str, wrong: dict) -> Elements:
    page = Elements(html)
    assert page.links == [f"#{i}" for i in wrong]
    for field_id, message in wrong.items():
        element = page.by_id[field_id]
        assert element.get("aria-invalid", "true") == "true"  # a fieldset's radios: no such state
        described = element["aria-describedby"].split()
        said = " ".join(re.search(rf'id="{d}">([^<]*)<', html).group(1) for d in described)
        assert message in said, (field_id, said)
    return page


def test_the_tracking_forms_error_is_the_code_fields_own(client, tree):
    page = Elements(client.get("/track?code=ABCDE-FGHJK").get_data(as_text=True))
    assert page.by_id["code"]["aria-invalid"] == "true"
    assert page.by_id[page.by_id["code"]["aria-describedby"]]["role"] == "alert"


def test_without_csrf_token_nothing_is_recorded(client, point):
    url = f"/pakn/new?point={point.token}"
    data = form_data(client, url)
    data.pop("csrf_token")
    assert client.post(url, data=data).status_code == 422
    assert db.session.scalar(select(Case)) is None


def test_a_form_with_a_bad_key_says_so_and_can_be_sent_again(client, point):
    url = f"/pakn/new?point={point.token}"
    refused = client.post(url, data=form_data(client, url, key="not-a-key"))
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "This form is not valid" in html and db.session.scalar(select(Case)) is None
    assert "Tôi phải chờ ba tuần" in html  # what was written is kept
    again = page_forms(html)[-1]["fields"]
    assert re.fullmatch(r"[0-9a-f]{32}", again["key"])
    again.pop("photos", None)
    # The textarea and the select, as kept on the page (the test's parser reads neither).
    again.update(topic="delay", content="Tôi phải chờ ba tuần để nhận kết quả.")
    assert client.post(url, data=again).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1


def test_every_text_field_is_shown_back_escaped(client, point, staff):
    url = f"/pakn/new?point={point.token}"
    response = send(client, url, content=HOSTILE, name=HOSTILE[:100], email="a@b.vn", consent="y")
    track = client.get(response.headers["Location"]).get_data(as_text=True)
    assert HOSTILE not in track and "&lt;script&gt;" in track
    refused = send(client, url, content="ok " + HOSTILE, phone=HOSTILE[:20], consent="y")
    assert HOSTILE[:20] not in refused.get_data(as_text=True)
    from tests.conftest import login

    login(client, "admin@x.vn")
    case = db.session.scalar(select(Case))
    staff_page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert HOSTILE not in staff_page and HOSTILE[:100] not in staff_page
    assert "&lt;img src=x onerror=alert(1)&gt;" in staff_page


def test_photos_are_stored_as_sent_then_reencoded_without_metadata(client, point, runner):
    raw = jpeg()
    assert b"SecretCam" in raw
    png = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 0, 255, 128)).save(png, "PNG")
    files = [("a.jpg", raw), ("b.png", png.getvalue())]
    assert send(client, f"/pakn/new?point={point.token}", files=files).status_code == 303
    photos = db.session.scalars(select(CasePhoto).order_by(CasePhoto.position)).all()
    # The citizen's request only read the headers: nothing decoded or re-encoded there.
    assert [(p.position, p.pending, p.width, p.height) for p in photos] == [
        (1, True, 800, 600), (2, True, 300, 200)
    ]  # fmt: skip
    assert photos[0].data == raw and photos[1].data == png.getvalue()

    result = runner.invoke(args=["feedback", "photos"])
    assert result.exit_code == 0 and "Re-encoded or removed 2 photos." in result.output
    db.session.expire_all()
    photos = db.session.scalars(select(CasePhoto).order_by(CasePhoto.position)).all()
    for photo in photos:
        image = Image.open(io.BytesIO(photo.data))
        assert not photo.pending and (photo.width, photo.height) == image.size
        assert image.format == "JPEG" and not image.getexif() and b"SecretCam" not in photo.data
        assert "exif" not in image.info and "icc_profile" not in image.info
    again = runner.invoke(args=["feedback", "photos"])
    assert "Re-encoded or removed 0 photos." in again.output


def test_staff_see_photos_reencoded_when_they_open_the_case(client, point, staff):
    raw = jpeg()
    assert send(client, f"/pakn/new?point={point.token}", files=[("a.jpg", raw)]).status_code == 303
    case = db.session.scalar(select(Case))
    login(client, "handler@x.vn")
    served = client.get(f"/staff/cases/{case.id}/photos/1.jpg")  # the image, before the page
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert b"SecretCam" not in served.data and served.data != raw
    db.session.expire_all()
    assert not db.session.scalar(select(CasePhoto)).pending


def test_a_photo_that_cannot_be_decoded_is_removed_with_a_note(client, point, staff):
    whole = jpeg((400, 300), exif=False)
    broken = whole[: len(whole) // 2]  # the header is fine; half the picture is missing
    files = [("a.jpg", jpeg((50, 50), exif=False)), ("b.jpg", broken)]
    assert send(client, f"/pakn/new?point={point.token}", files=files).status_code == 303
    case = db.session.scalar(select(Case))
    login(client, "handler@x.vn")
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    assert "photos/1.jpg" in page and "photos/2.jpg" not in page
    assert "Photo 2 removed: it could not be read" in page  # the history says so
    assert client.get(f"/staff/cases/{case.id}/photos/2.jpg").status_code == 404
    db.session.expire_all()
    assert [(p.position, p.pending) for p in db.session.scalars(select(CasePhoto))] == [(1, False)]


def test_large_photos_are_bounded(client, point, app, runner):
    app.config["FEEDBACK_PHOTO_MAX_SIDE"] = 400
    noisy = Image.effect_noise((3000, 2000), 80).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "JPEG", quality=95)
    assert len(out.getvalue()) > app.config["MAX_CONTENT_LENGTH"]  # over the site-wide limit
    files = [("big.jpg", out.getvalue())]
    assert send(client, f"/pakn/new?point={point.token}", files=files).status_code == 303
    assert runner.invoke(args=["feedback", "photos"]).exit_code == 0
    db.session.expire_all()
    photo = db.session.scalar(select(CasePhoto))
    assert (photo.width, photo.height) == (400, 267)
    assert len(photo.data) <= app.config.get("FEEDBACK_PHOTO_STORED_BYTES", 600 * 1024)


def bomb_png(width=20000, height=20000) -> bytes:
    """A tiny PNG that claims 400 million pixels: decoding it would take gigabytes."""
    import struct
    import zlib

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * width
    data = zlib.compress(row * 50, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def scan_bomb_jpeg(scans=MAX_JPEG_SCANS + 1) -> bytes:
    """A small progressive JPEG whose last scan is repeated: decoding one of some hundred kB
    made so, of a picture of 36 million pixels, takes minutes (each scan goes over all of it)."""
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (120, 130, 140)).save(out, "JPEG", progressive=True)
    raw = out.getvalue()
    last = raw.rindex(b"\xff\xda")
    return raw[:-2] + raw[last:-2] * (scans - jpeg_scans(raw)) + b"\xff\xd9"


def scan_bomb_mpo() -> bytes:
    """The same, as the first picture of a multi-picture JPEG (Pillow opens it as MPO)."""
    pictures = [Image.new("RGB", (64, 64), colour) for colour in ((120, 130, 140), (0, 0, 0))]
    out = io.BytesIO()
    pictures[0].save(out, "MPO", save_all=True, append_images=pictures[1:], progressive=True)
    raw = out.getvalue()
    end = raw.index(b"\xff\xd9")  # of the first picture
    last = raw.rindex(b"\xff\xda", 0, end)
    return raw[:end] + raw[last:end] * MAX_JPEG_SCANS + raw[end:]


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("bomb.png", bomb_png(), "too many pixels"),
        ("scans.jpg", scan_bomb_jpeg(), "not a JPEG or PNG"),
        ("scans-mpo.jpg", scan_bomb_mpo(), "not a JPEG or PNG"),
        ("mid.png", bomb_png(7000, 7000), "too many pixels"),
        ("notes.txt", b"hello, this is not an image", "not a JPEG or PNG"),
        ("fake.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 200, "not a JPEG or PNG"),
        ("doc.gif", b"GIF89a" + b"\x00" * 100, "not a JPEG or PNG"),
        ("empty.jpg", b"", "empty"),
        ("", b"", None),  # the file input left empty: no photo at all
    ],
)
def test_hostile_uploads_are_refused_with_a_message(client, point, name, raw, message):
    response = send(client, f"/pakn/new?point={point.token}", files=[(name, raw)])
    if message is None:
        assert response.status_code == 303
        return
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Case)) is None


def test_a_progressive_photo_is_taken_and_its_scans_counted(client, point, runner):
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (120, 130, 140)).save(out, "JPEG", progressive=True)
    assert jpeg_scans(out.getvalue()) == 10 and jpeg_scans(jpeg()) == 1
    assert jpeg_scans(scan_bomb_jpeg()) == MAX_JPEG_SCANS + 1
    files = [("p.jpg", out.getvalue()), ("s.jpg", scan_bomb_jpeg(MAX_JPEG_SCANS))]
    assert send(client, f"/pakn/new?point={point.token}", files=files).status_code == 303
    assert runner.invoke(args=["feedback", "photos"]).exit_code == 0
    db.session.expire_all()
    assert [p.pending for p in db.session.scalars(select(CasePhoto))] == [False, False]


def test_a_photo_of_too_many_scans_stored_before_the_check_is_removed(point, runner):
    services.create_case(
        point.unit, kind="report", topic="delay", content="Tôi phải chờ ba tuần.",
        channel="web", photos=[Photo(scan_bomb_jpeg(), 64, 64, pending=True)],
    )  # fmt: skip
    db.session.commit()
    result = runner.invoke(args=["feedback", "photos"])
    assert result.exit_code == 0 and "Re-encoded or removed 1 photo." in result.output
    assert db.session.scalar(select(func.count()).select_from(CasePhoto)) == 0
    assert db.session.scalar(select(CaseEvent.detail).where(CaseEvent.detail.contains("photo")))


def test_a_refused_photos_name_is_shown_without_invisible_characters(client, point):
    response = send(client, f"/pakn/new?point={point.token}", files=[("\u202egpj.txt", b"hi")])
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "gpj.txt: This file is not a JPEG or PNG photo." in html and "\u202e" not in html


def test_too_many_and_too_large_uploads(client, point, app):
    files = [(f"{i}.jpg", jpeg((50, 50), exif=False)) for i in range(4)]
    response = send(client, f"/pakn/new?point={point.token}", files=files)
    assert response.status_code == 422 and "3 photos at most" in response.get_data(as_text=True)
    app.config["FEEDBACK_PHOTO_MAX_BYTES"] = 2000
    response = send(client, f"/pakn/new?point={point.token}", files=[("a.jpg", jpeg())])
    assert response.status_code in (413, 422)
    assert "too large" in response.get_data(as_text=True)
    assert db.session.scalar(select(Case)) is None


def test_tracking_by_form_and_code(client, make_case):
    case = make_case()
    typed = f" {case.code[:5].lower()}-{case.code[5:]} "
    response = client.get("/track", query_string={"code": typed})
    assert response.headers["Location"] == f"/track/{case.code}"
    page = client.get(f"/track/{case.code}").get_data(as_text=True)
    assert "Cán bộ hẹn lại nhiều lần." in page
    assert client.get("/track?code=ABCDEFGHJK").status_code == 404
    assert client.get("/track/ABCDEFGHJK").status_code == 404
    assert client.get("/track/O0O0O0O0O0").status_code == 404


def test_an_unknown_tracking_address_offers_the_code_to_correct(client, make_case):
    # An address copied by hand from a note, one letter wrong: not a dead end.
    case = make_case()
    wrong = case.code[:-1] + ("A" if case.code[-1] != "A" else "B")
    response = client.get(f"/track/{wrong}")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert 'aria-describedby="code-error"' in html
    form = next(f for f in page_forms(html) if f["id"] == "track")
    assert (form["action"], form["fields"]["code"]) == ("/track", wrong)
    corrected = client.get("/track", query_string={"code": case.code})
    assert corrected.headers["Location"] == f"/track/{case.code}"


@pytest.mark.parametrize(
    "shape",
    [
        "{a}–{b}",  # an en dash, as a phone's keyboard or a chat app may make of "-"
        "{a} — {b}",
        "{a}\u200b{b}",  # a zero-width space copied with the code
        "{a}\u00a0{b}",
        "FULLWIDTH",
    ],
    ids=["en-dash", "em-dash", "zero-width-space", "no-break-space", "full-width"],
)
def test_a_code_typed_with_other_dashes_spaces_or_full_width_is_found(client, make_case, shape):
    case = make_case()
    if shape == "FULLWIDTH":
        typed = "".join(chr(ord(c) + 0xFEE0) for c in case.code.lower())
    else:
        typed = shape.format(a=case.code[:5], b=case.code[5:])
    response = client.get("/track", query_string={"code": typed})
    assert response.headers["Location"] == f"/track/{case.code}"


def test_a_code_changed_by_vietnamese_typing_says_how_to_type_it(client, make_case):
    make_case()
    # "AA" typed with Telex becomes "Â", "DD" becomes "Đ".
    for typed in ("ÂBCDE-FGHJK", "ĐEFGH-JKMN2"):
        response = client.get("/track", query_string={"code": typed})
        page = response.get_data(as_text=True)
        assert response.status_code == 404
        assert "Vietnamese typing (Telex or VNI)" in page and f'value="{typed}"' in page
    page = client.get("/track", query_string={"code": "ABCDE-FGHJK"}).get_data(as_text=True)
    assert "Telex" not in page and "No PAKN has this code." in page


def test_a_case_outside_the_units_competence_shows_the_forwarding_date_not_an_answer_date(
    client, make_case, staff
):
    # Received Monday 6/1/2025: 10 working days to answer (20/1), 5 to forward (13/1).
    case = make_case(received_at=datetime(2025, 1, 6, 2, 0))
    page = client.get(f"/track/{case.code}").get_data(as_text=True)
    assert "Answer due by</dt><dd>20 Jan 2025" in page
    apply_action(case, Action.CLASSIFY, staff["manager"], case.version, outcome="outside")
    db.session.commit()
    page = client.get(f"/track/{case.code}").get_data(as_text=True)
    assert "To be forwarded to the competent agency by</dt><dd>13 Jan 2025" in page
    assert "Answer due by" not in page


def test_a_page_number_past_any_list_is_a_missing_page(client, tree):
    assert client.get("/pakn/published?page=1000000").headers["Location"] == "/pakn/published"
    response = client.get("/pakn/published?page=99999999999999999999")
    assert response.status_code == 404
    assert "This page does not exist." in response.get_data(as_text=True)


def test_a_rating_sent_leads_to_its_thanks_where_the_form_was(client, staff, make_case):
    # On a phone the tracking page is long: its top says nothing of the rating just sent.
    case = make_case()
    handle(case, staff["manager"], "Đã xử lý xong hồ sơ.")
    page = client.get(f"/track/{case.code}").get_data(as_text=True)
    rating = next(f for f in page_forms(page) if f["action"].endswith("/rating"))
    response = client.post(rating["action"], data={**rating["fields"], "satisfied": "yes"})
    assert response.headers["Location"] == f"/track/{case.code}#rated"
    page = client.get(f"/track/{case.code}").get_data(as_text=True)
    assert re.search(r'<p role="status" id="rated">[^<]+</p>', page)


def test_a_rating_sent_with_an_expired_form_shows_the_case_again_with_the_choice_kept(
    client, staff, make_case
):
    case = make_case()
    handle(case, staff["manager"], "Đã xử lý xong hồ sơ.")
    page = client.get(f"/track/{case.code}").get_data(as_text=True)
    rating = next(f for f in page_forms(page) if f["action"].endswith("/rating"))
    with client.session_transaction() as session:
        session.clear()  # the phone put away for hours: the browser's session is gone
    response = client.post(rating["action"], data={**rating["fields"], "satisfied": "no"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This form had expired. Your choice is kept: please send it again." in page
    assert "Đã xử lý xong hồ sơ." in page
    assert re.search(r'value="no" required checked', page)
    assert f'href="/lang/vi?next=/track/{case.code}"' in page  # not to the rating's address
    db.session.expire_all()
    assert db.session.get(Case, case.id).rated_at is None
    again = next(f for f in page_forms(page) if f["action"].endswith("/rating"))
    assert client.post(again["action"], data=again["fields"]).status_code == 303
    db.session.expire_all()
    assert db.session.get(Case, case.id).satisfied is False


def test_a_rating_sent_without_a_choice_says_so_to_a_screen_reader(client, staff, make_case):
    case = make_case()
    handle(case, staff["manager"], "Đã xử lý xong hồ sơ.")
    page = client.get(f"/track/{case.code}").get_data(as_text=True)
    rating = next(f for f in page_forms(page) if f["action"].endswith("/rating"))
    response = client.post(rating["action"], data=rating["fields"])  # nothing chosen
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    elements = Elements(html)
    [fieldset] = [e for e in elements.by_id.values() if e["tag"] == "fieldset"]
    [message] = fieldset["aria-describedby"].split()
    assert elements.by_id[message]["role"] == "alert"
    assert re.search(rf'id="{message}"[^>]*>Please choose an answer.<', html)


@pytest.fixture
def rate_while_changed(client, staff, make_case, monkeypatch):
    """Rate "no" an answered case; between reading and saving, another request changes it."""

    def rate(rating_too: bool):
        case = make_case()
        handle(case, staff["manager"], "Đã xử lý xong.")
        track = client.get(f"/track/{case.code}").get_data(as_text=True)
        rating = next(f for f in page_forms(track) if f["action"].endswith("/rating"))
        original, case_id, state, reads = services.case_by_code, case.id, case.state, []

        def changed_meanwhile(code):
            found = original(code)
            reads.append(code)
            if len(reads) == 1:
                table, changes = Case.__table__, {"updated_at": utcnow()}
                if rating_too:  # the first tap of the same button, saved first
                    changes.update(satisfied=True, rated_at=utcnow())
                with db.engine.begin() as conn:
                    conn.execute(update(table).where(table.c.id == case_id)
                                 .values(version=table.c.version + 1, **changes))  # fmt: skip
                    if rating_too:
                        conn.execute(CaseEvent.__table__.insert().values(
                            case_id=case_id, at=utcnow(), actor_label="citizen", action="rate",
                            from_state=state, to_state=state, detail="satisfied=True"))  # fmt: skip
            return found

        monkeypatch.setattr(services, "case_by_code", changed_meanwhile)
        response = client.post(rating["action"], data={**rating["fields"], "satisfied": "no"})
        db.session.expire_all()
        rated = select(func.count()).where(CaseEvent.case_id == case_id, CaseEvent.action == "rate")
        return response, db.session.get(Case, case_id), db.session.scalar(rated)

    return rate


def test_a_rating_sent_twice_at_once_is_recorded_once(rate_while_changed):
    response, case, ratings = rate_while_changed(rating_too=True)
    assert response.status_code == 409
    assert "Thank you for your rating." in response.get_data(as_text=True)
    assert case.satisfied is True and ratings == 1


def test_a_rating_is_recorded_when_staff_changed_the_case_meanwhile(rate_while_changed):
    response, case, ratings = rate_while_changed(rating_too=False)
    assert response.status_code == 303
    assert case.satisfied is False and ratings == 1


def test_after_a_reopening_the_citizen_rates_the_new_answer(client, staff, make_case):
    case = make_case()
    handle(case, staff["manager"], "Lần một.")
    track = client.get(f"/track/{case.code}").get_data(as_text=True)
    rating = next(f for f in page_forms(track) if f["action"].endswith("/rating"))
    client.post(rating["action"], data={**rating["fields"], "satisfied": "no"})
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    apply_action(case, Action.REOPEN, staff["manager"], case.version, "Chưa trả lời đủ.")
    apply_action(case, Action.ANSWER, staff["manager"], case.version, answer="Lần hai.")
    db.session.commit()
    track = client.get(f"/track/{case.code}").get_data(as_text=True)
    assert "Lần hai." in track and "Thank you for your rating." not in track
    rating = next(f for f in page_forms(track) if f["action"].endswith("/rating"))
    assert (
        client.post(rating["action"], data={**rating["fields"], "satisfied": "yes"}).status_code
        == 303
    )
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.satisfied, case.ever_dissatisfied) == (True, True)


def test_unknown_codes_are_throttled(client, make_case, app, steady_clock):
    case = make_case()
    app.config["FEEDBACK_TRACK_LIMIT"] = (3, 600)
    for _ in range(3):
        assert client.get("/track/ABCDEFGHJK").status_code == 404
    assert client.get("/track/ABCDEFGHJK").status_code == 429
    assert client.get(f"/track/{case.code}").status_code == 429  # no oracle once throttled


def test_unknown_codes_sent_a_rating_are_throttled_too(client, make_case, app, steady_clock):
    """A rating's address looks the code up too: 404 for an unknown code and 422 for a known
    one (the form's token missing) would tell codes apart without the limit."""
    case = make_case()
    app.config["FEEDBACK_TRACK_LIMIT"] = (3, 600)
    assert client.post(f"/track/{case.code}/rating").status_code == 422
    for _ in range(3):
        assert client.post("/track/ABCDEFGHJK/rating").status_code == 404
    assert client.post("/track/ABCDEFGHJK/rating").status_code == 429
    assert client.post(f"/track/{case.code}/rating").status_code == 429
    assert client.get(f"/track/{case.code}").status_code == 429  # one count for both


def test_sending_is_throttled(client, point, app, steady_clock):
    app.config["FEEDBACK_SEND_LIMIT"] = (2, 3600)
    url = f"/pakn/new?point={point.token}"
    assert [send(client, url).status_code for _ in range(3)] == [303, 303, 429]


def test_a_pakn_refused_for_too_many_sent_keeps_what_was_written(client, point, app, steady_clock):
    app.config["FEEDBACK_SEND_LIMIT"] = (1, 3600)
    url = f"/pakn/new?point={point.token}"
    assert send(client, url).status_code == 303
    long_text = "Tôi đã chờ ba tuần, hỏi bốn lần mà hồ sơ vẫn chưa có kết quả."
    response = send(client, url, content=long_text, name="Trần Văn An", phone="0912345678",
                    consent="y")  # fmt: skip
    html = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "Too many attempts. Please wait a few minutes and try again." in html
    [form] = [f for f in page_forms(html) if f["action"] == url]
    fields = dict(form["fields"])
    assert (fields["content"], fields["name"], fields["phone"]) == (long_text, "Trần Văn An",
                                                                    "0912345678")  # fmt: skip
    assert "need your attention" not in html  # no answer is wrong
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1


def test_a_photo_pillow_fails_on_otherwise_does_not_stop_the_others(client, point, runner,
                                                                    monkeypatch):  # fmt: skip
    import struct

    from feedback import services

    files = [("a.jpg", jpeg((60, 40), exif=False)), ("b.jpg", jpeg((50, 50), exif=False))]
    assert send(client, f"/pakn/new?point={point.token}", files=files).status_code == 303
    real = services.reencode

    def fails_on_the_first(raw, **bounds):
        if raw == files[0][1]:
            raise struct.error("unpack requires a buffer of 4 bytes")  # not a PhotoError
        return real(raw, **bounds)

    monkeypatch.setattr(services, "reencode", fails_on_the_first)
    result = runner.invoke(args=["feedback", "photos"])
    assert result.exit_code == 0 and "Re-encoded or removed 2 photos." in result.output
    db.session.expire_all()
    assert [(p.position, p.pending) for p in db.session.scalars(select(CasePhoto))] == [(2, False)]
    case = db.session.scalar(select(Case))
    assert [e.detail for e in case.events][-1] == "photo_removed=1 (unreadable)"


def citizen_status(client, case) -> str:
    html = client.get(f"/track/{case.code}").get_data(as_text=True)
    return re.search(r"<dt>Status</dt><dd><strong>([^<]*)</strong>", html).group(1)


def test_the_tracking_page_says_truly_where_the_case_stands(client, staff, make_case):
    """Each state in the citizen's words: classified is accepted, not still being classified."""
    manager = staff["manager"]
    case = make_case()
    assert citizen_status(client, case) == "Received, to be classified"
    steps = [
        (Action.CLASSIFY, {"outcome": "competent"}, "Accepted, being handled"),
        (Action.ASSIGN, {}, "Being handled"),
        (Action.ANSWER, {"answer": "Đã trả hồ sơ."}, "Answered"),
        (Action.PUBLISH, {"summary": "Chậm trả.", "published_answer": "Đã trả."},
         "Answered and published"),
    ]  # fmt: skip
    for action, fields, status in steps:
        apply_action(case, action, manager, case.version, **fields)
        db.session.commit()
        assert citizen_status(client, case) == status, action
    assert "classified" not in client.get(f"/track/{case.code}").get_data(as_text=True)

    outside = make_case()
    apply_action(outside, Action.CLASSIFY, manager, outside.version, outcome="outside")
    db.session.commit()
    assert citizen_status(client, outside) == "Accepted, to be sent to the competent agency"
    apply_action(outside, Action.FORWARD, manager, outside.version, agency="Sở Tư pháp")
    db.session.commit()
    assert citizen_status(client, outside) == "Forwarded to the competent agency"
    rejected = make_case()
    apply_action(rejected, Action.REJECT, manager, rejected.version, "Không đủ nội dung.")
    db.session.commit()
    assert citizen_status(client, rejected) == "Not accepted"


def test_the_three_actions_are_large_buttons_without_script(client, tree):
    response = client.get("/pakn/")
    html = response.get_data(as_text=True)
    buttons = re.findall(r'<a class="cta" href="([^"]+)">([^<]+)</a>', html)
    assert [href for href, _label in buttons] == [
        "/pakn/units",
        "/track",
        "/pakn/units?for=published",
    ]
    assert "<script" not in html and len(response.data) < 8 * 1024
    css = client.get("/static/style.css").get_data(as_text=True)
    rule = re.search(r"(?:^|\n)button,\.cta\{([^}]*)\}", css).group(1)
    assert "min-height:3rem" in rule and "display:block" in rule  # 48 px, the width of the page


@pytest.mark.parametrize(
    ("fields", "files"),
    [
        ({"content": "short"}, [("a.jpg", jpeg())]),  # the text refused, the photo was fine
        ({}, [("a.jpg", jpeg()), ("notes.txt", b"hello")]),  # one photo refused, not the other
    ],
)
def test_photos_sent_with_a_refused_form_are_said_to_be_lost(client, point, fields, files):
    # A browser does not fill a file input back: without a word, a citizen who corrects the
    # text sends the PAKN without the photos they believe attached.
    url = f"/pakn/new?point={point.token}"
    response = send(client, url, files=files, **fields)
    assert response.status_code == 422 and db.session.scalar(select(Case)) is None
    html = response.get_data(as_text=True)
    assert html.count("The photos you attached could not be kept: please attach them again.") == 1
    photos = Elements(html).by_id["photos"]
    assert "photos-again" in photos["aria-describedby"].split()


def test_a_refused_form_without_photos_says_nothing_of_photos(client, point):
    html = send(client, f"/pakn/new?point={point.token}", content="short").get_data(as_text=True)
    assert "photos-again" not in html


def test_the_space_a_phones_keyboard_leaves_after_a_contact_is_not_refused(client, point):
    # Picking an address or a name the keyboard suggests adds a space nobody sees.
    url = f"/pakn/new?point={point.token}"
    response = send(
        client, url, name="Lê Văn C ", phone=" 0912 345 678", email="c@example.vn ", consent="y"
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    person = db.session.scalar(select(Case)).person
    assert (person.name, person.phone, person.email) == ("Lê Văn C", "0912 345 678", "c@example.vn")


@pytest.mark.parametrize(
    "phone", ["(028) 3822 1234", "028.3822.1234", "+84 (28) 3822 1234", "0912-345-678"]
)
def test_a_landline_written_as_offices_write_it_is_a_phone_number(client, point, phone):
    response = send(client, f"/pakn/new?point={point.token}", name="Lê Văn C", phone=phone,
                    consent="y")  # fmt: skip
    assert response.status_code == 303, response.get_data(as_text=True)
    assert db.session.scalar(select(Case)).person.phone == phone


@pytest.mark.parametrize("phone", ["(call me)", "0912 345 678\n", "()()()()()", "(028)"])
def test_what_is_not_a_phone_number_is_still_refused(client, point, phone):
    response = send(client, f"/pakn/new?point={point.token}", name="Lê Văn C", phone=phone,
                    consent="y")  # fmt: skip
    assert response.status_code == 422
    assert db.session.scalar(select(Case)) is None


@pytest.mark.parametrize("count, said", [(0, None), (1, "With 1 photo."), (2, "With 2 photos.")])
def test_the_tracking_page_says_how_many_photos_arrived(client, point, count, said):
    """The citizen who attached photos on a weak connection can see that they came."""
    files = [(f"p{i}.jpg", jpeg()) for i in range(count)]
    sent = send(client, f"/pakn/new?point={point.token}", files=files)
    assert sent.status_code == 303
    html = client.get(sent.headers["Location"], headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    if said is None:
        assert "photo" not in html.split("What you sent")[1]
    else:
        assert f'<p class="note">{said}</p>' in html


def test_a_page_of_published_answers_past_the_last_leads_to_the_last(client, make_case):
    # A link kept while answers left the public pages said "no answer published yet", page 3 of 2.
    for n in range(21):
        make_case(content=f"Kiến nghị số {n} về thủ tục.")
    db.session.execute(
        update(Case).values(state="published", published_at=utcnow(), answered_on=utcnow().date(),
                            public_summary="Tóm tắt.", published_answer="Đã trả lời.")
    )  # fmt: skip
    db.session.commit()
    assert client.get("/pakn/published?page=2").status_code == 200
    kept = {
        "/pakn/published?page=3": "/pakn/published?page=2",
        "/pakn/published?unit=26734&page=9": "/pakn/published?unit=26734&page=2",
        "/pakn/published?unit=26737&page=2": "/pakn/published?unit=26737",
    }
    for url, last in kept.items():
        response = client.get(url)
        assert (response.status_code, response.headers["Location"]) == (302, last), url


def test_a_counter_gone_leads_to_the_unit_tree(client, point):
    point.active = False
    db.session.commit()
    for url in (f"/pakn/new?point={point.token}", "/pakn/new?point=nope"):
        response = client.get(url)
        assert response.status_code == 404
        assert "This counter is not known. Please choose the unit." in response.text
        assert '<a href="/pakn/units">Choose the unit</a>' in response.text
