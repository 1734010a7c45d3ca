"""Adding, renaming and retiring survey points in the back office, through the real forms."""

import io
import re

import pytest
import zxingcpp
from markupsafe import escape
from PIL import Image
from sqlalchemy import select

from core.extensions import db
from core.models import Role, User
from survey.models import SurveyPoint
from survey.services import add_point
from tests.conftest import FAST_HASH, client_of, csrf_for, page_forms

ACTORS = ["admin", "manager", "handler", "analyst", None]  # None: signed out
INSIDE, OUTSIDE = "26734", "26800"  # under the manager's district 760, and under 769


@pytest.fixture
def world(tree, questionnaire):
    """The four roles (the manager of district 760, the handler of commune 26734) and a point in a
    commune on each side of the manager's scope."""
    db.session.add_all([
        User(email="admin@x.vn", role=Role.ADMIN, password_hash=FAST_HASH),
        User(email="manager@x.vn", role=Role.MANAGER, unit=tree["760"], password_hash=FAST_HASH),
        User(email="handler@x.vn", role=Role.HANDLER, unit=tree[INSIDE], password_hash=FAST_HASH),
        User(email="analyst@x.vn", role=Role.ANALYST, password_hash=FAST_HASH),
    ])  # fmt: skip
    inside = add_point(tree[INSIDE], "Quầy Bến Nghé", actor=None)
    outside = add_point(tree[OUTSIDE], "Quầy Thảo Điền", actor=None)
    db.session.commit()
    return {"inside": inside.token, "outside": outside.token}


def points() -> list[tuple]:
    """Every point as the database holds it now: unit code, label, token, in use."""
    db.session.expire_all()
    return [
        (p.unit.code, p.label, p.token, p.active)
        for p in db.session.scalars(select(SurveyPoint).order_by(SurveyPoint.id))
    ]


def point(token: str) -> SurveyPoint:
    db.session.expire_all()
    return db.session.scalar(select(SurveyPoint).where(SurveyPoint.token == token))


def form_at(client, url, action) -> dict:
    """The fields of the page's form posting to action, as a browser would send them."""
    html = client.get(url).get_data(as_text=True)
    return next(f for f in page_forms(html) if f["action"] == action)["fields"]


def new_point_form(client, **fields) -> dict:
    return form_at(client, "/staff/points/new", "/staff/points/new") | fields


# --- who may do what -------------------------------------------------------------------------

MANAGES = {"admin": {"inside", "outside"}, "manager": {"inside"}}


@pytest.mark.parametrize("side", ["inside", "outside"])
@pytest.mark.parametrize("actor", ACTORS)
def test_who_adds_a_point_to_which_unit(app, world, actor, side):
    client = client_of(app, actor)
    code = INSIDE if side == "inside" else OUTSIDE
    before = points()
    page = client.get("/staff/points/new")
    if side in MANAGES.get(actor, ()):
        data = new_point_form(client, unit=code, label="Quầy 2 – Tư pháp")
        response = client.post("/staff/points/new", data=data)
        assert response.status_code == 303
        (added,) = set(points()) - set(before)
        assert added[:2] == (code, "Quầy 2 – Tư pháp") and added[3]
        assert response.location == f"/staff/#point-{added[2]}"
        return
    if actor == "manager":
        # The form offers only the units in scope; one forged into it is refused.
        assert page.status_code == 200 and f'value="{OUTSIDE}"' not in page.get_data(as_text=True)
        data = new_point_form(client, unit=OUTSIDE, label="Quầy lạ")
        response = client.post("/staff/points/new", data=data)
        assert response.status_code == 422
        assert '<p class="msg" id="e-unit-1">Choose one of the answers shown.</p>' in (
            response.get_data(as_text=True)
        )
    else:
        data = {"unit": code, "label": "Quầy lạ", "key": "0" * 32, "csrf_token": csrf_for(client)}
        response = client.post("/staff/points/new", data=data)
        if actor is None:
            assert page.status_code == response.status_code == 302
            assert response.location.startswith("/login")
        else:
            assert page.status_code == response.status_code == 403
    assert points() == before


@pytest.mark.parametrize("action", ["rename", "retire"])
@pytest.mark.parametrize("side", ["inside", "outside"])
@pytest.mark.parametrize("actor", ACTORS)
def test_who_renames_and_retires_which_point(app, world, actor, side, action):
    client = client_of(app, actor)
    token = world[side]
    url = f"/staff/points/{token}"
    action_url = url if action == "rename" else f"{url}/retire"
    fields = {"label": "Quầy mới tên"} if action == "rename" else {"confirm": "y"}
    before = points()
    page = client.get(url)
    if side in MANAGES.get(actor, ()):
        data = form_at(client, url, action_url) | fields
        response = client.post(action_url, data=data)
        assert response.status_code == 303 and response.location == f"/staff/#point-{token}"
        changed = point(token)
        if action == "rename":
            assert (changed.label, changed.active) == ("Quầy mới tên", True)
        else:
            assert (changed.label, changed.active) == (before[0 if side == "inside" else 1][1],
                                                       False)  # fmt: skip
            assert changed.retired_at is not None
        assert changed.token == token and len(points()) == len(before)
        return
    data = fields | {"csrf_token": csrf_for(client)}
    response = client.post(action_url, data=data)
    if actor is None:
        assert page.status_code == response.status_code == 302
    else:
        assert page.status_code == response.status_code == 403
    assert points() == before


@pytest.mark.parametrize("actor", ["handler", "manager", "admin"])
def test_only_those_who_manage_points_see_the_buttons(app, world, actor):
    html = client_of(app, actor).get("/staff/").get_data(as_text=True)
    manages = actor != "handler"
    assert ("/staff/points/new" in html) is manages
    assert (f'href="/staff/points/{world["inside"]}"' in html) is manages
    assert f"/staff/points/{world['inside']}/poster.pdf" in html  # everyone prints posters
    assert (f'href="/staff/points/{world["outside"]}"' in html) is (actor == "admin")


def test_analysts_have_no_access_to_points(app, world):
    client = client_of(app, "analyst")
    assert client.get("/staff/").status_code == 403
    assert client.get("/staff/points/new").status_code == 403
    assert client.get(f"/staff/points/{world['inside']}").status_code == 403


def test_an_unknown_point_is_a_missing_page(app, world):
    client = client_of(app, "admin")
    token = csrf_for(client)
    for url in ("/staff/points/unknown", "/staff/points/" + "x" * 41):
        assert client.get(url).status_code == 404
        assert client.post(url, data={"label": "Quầy", "csrf_token": token}).status_code == 404
        response = client.post(f"{url}/retire", data={"confirm": "y", "csrf_token": token})
        assert response.status_code == 404


def test_a_post_without_the_csrf_token_is_refused(app, world):
    client = client_of(app, "admin")
    before = points()
    posts = [
        ("/staff/points/new", {"unit": INSIDE, "label": "Quầy 3", "key": "a" * 32}),
        (f"/staff/points/{world['inside']}", {"label": "Quầy đổi"}),
        (f"/staff/points/{world['inside']}/retire", {"confirm": "y"}),
    ]
    for url, data in posts:
        response = client.post(url, data=data)
        assert response.status_code == 400, url
        assert "This form has expired" in response.get_data(as_text=True)
    assert points() == before


# --- what a new point gives ------------------------------------------------------------------


def test_a_new_point_is_listed_with_posters_that_open_its_survey(app, world, client):
    manager = client_of(app, "manager")
    data = new_point_form(manager, unit="26737", label="Quầy 1 – Đa Kao")
    response = manager.post("/staff/points/new", data=data)
    token = response.location.split("#point-")[1]
    html = manager.get(response.location).get_data(as_text=True)
    assert "Survey point Quầy 1 – Đa Kao added to Phường Đa Kao." in html
    assert f"http://survey.test/s/{token}" in html
    for fmt in ("pdf", "png", "svg"):
        assert f"/staff/points/{token}/poster.{fmt}?size=A4" in html
    poster = manager.get(f"/staff/points/{token}/poster.png?size=A5")
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(poster.data)))]
    assert decoded == [f"http://survey.test/s/{token}"]
    survey = client.get(f"/s/{token}")
    assert survey.status_code == 200 and "Phường Đa Kao" in survey.get_data(as_text=True)


def test_the_form_offers_the_units_of_the_scope_and_one_chosen_beside_a_unit(app, world):
    manager = client_of(app, "manager")
    html = manager.get("/staff/points/new").get_data(as_text=True)
    units = html.split('<select id="unit"')[1].split("</select>")[0]
    offered = {v for v in ("79", "760", "769", INSIDE, "26737", OUTSIDE) if f'value="{v}"' in units}
    assert offered == {"760", INSIDE, "26737"}
    assert new_point_form(manager)["unit"] == "760"  # the first, as a browser sends it
    link = manager.get("/staff/").get_data(as_text=True)
    assert f"/staff/points/new?unit={INSIDE}" in link
    assert form_at(manager, f"/staff/points/new?unit={INSIDE}", "/staff/points/new")["unit"] == (
        INSIDE
    )
    admin = client_of(app, "admin").get("/staff/points/new").get_data(as_text=True)
    assert all(f'value="{v}"' in admin for v in ("79", "760", "769", INSIDE, "26737", OUTSIDE))


def test_the_same_form_sent_twice_adds_one_point(app, world):
    """A double click, or Back and send again: one counter, one point; the second answer shows
    the point the first one added. A form opened afresh adds another, as does the old form
    changed before it is sent again: that is what the user asked for."""
    client = client_of(app, "manager")
    before = len(points())
    data = new_point_form(client, unit=INSIDE, label="Quầy 2")
    first = client.post("/staff/points/new", data=data)
    second = client.post("/staff/points/new", data=data)
    assert first.status_code == second.status_code == 303
    assert first.location == second.location
    assert len(points()) == before + 1
    assert "Survey point Quầy 2 added" in client.get(second.location).get_data(as_text=True)
    # The label as it is stored: the spaces around it do not make another point.
    client.post("/staff/points/new", data=data | {"label": "  Quầy 2 "})
    assert len(points()) == before + 1
    edited = client.post("/staff/points/new", data=data | {"label": "Quầy 3"})
    assert edited.location != first.location and len(points()) == before + 2
    fresh = client.post("/staff/points/new", data=new_point_form(client, unit=INSIDE,
                                                                 label="Quầy 2"))  # fmt: skip
    assert fresh.location != first.location and len(points()) == before + 3
    assert [p[1] for p in points()[before:]] == ["Quầy 2", "Quầy 3", "Quầy 2"]


def test_a_form_key_that_is_missing_or_forged_is_refused_with_a_fresh_one(app, world):
    client = client_of(app, "admin")
    before = points()
    for key in ("", "not-a-key", "A" * 32, "0" * 10_000):
        data = new_point_form(client, unit=INSIDE, label="Quầy 5", key=key)
        response = client.post("/staff/points/new", data=data)
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "This form is not valid. Please submit it again." in html
        again = next(f for f in page_forms(html) if f["action"] == "/staff/points/new")["fields"]
        assert again["label"] == "Quầy 5" and again["key"] != key
        assert client.post("/staff/points/new", data=again).status_code == 303  # sent again
        assert len(points()) == len(before) + 1
        before = points()


# --- labels ----------------------------------------------------------------------------------

REFUSED_LABELS = [
    ("", "This field is required."),
    ("   ", "This field is required."),
    ("Q" * 121, "Write at most 120 characters."),
    ("Q" * 10_000, "Write at most 120 characters."),
    ("Quầy\t1", "No line breaks, tabs or invisible characters here, please."),
    ("Quầy 1\n", "No line breaks, tabs or invisible characters here, please."),
    ("Quầy\u200b1", "No line breaks, tabs or invisible characters here, please."),
    ("Quầy \u202e1", "No line breaks, tabs or invisible characters here, please."),
]


@pytest.mark.parametrize(("label", "message"), REFUSED_LABELS)
def test_a_refused_new_label_is_shown_again_with_its_message(app, world, runner, label, message):
    client = client_of(app, "manager")
    before = points()
    data = new_point_form(client, unit="26737", label=label)
    response = client.post("/staff/points/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert points() == before
    assert f'<p class="msg" id="e-label-1">{message}</p>' in html
    assert 'aria-invalid="true" aria-describedby="e-label-1"' in html
    again = next(f for f in page_forms(html) if f["action"] == "/staff/points/new")["fields"]
    assert again["label"] == label  # as typed
    assert again["unit"] == "26737" and again["key"] == data["key"]
    # The command line refuses it by the same rule.
    result = runner.invoke(args=["points", "add", "26737", "--label", label])
    assert result.exit_code != 0 and points() == before


@pytest.mark.parametrize(("label", "message"), REFUSED_LABELS)
def test_a_refused_new_name_leaves_the_point_as_it_was(app, world, label, message):
    client = client_of(app, "admin")
    url = f"/staff/points/{world['inside']}"
    before = points()
    response = client.post(url, data=form_at(client, url, url) | {"label": label})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert points() == before
    assert f'<p class="msg" id="e-label-1">{message}</p>' in html
    again = next(f for f in page_forms(html) if f["action"] == url)["fields"]
    assert again["label"] == label


def test_a_missing_label_or_unit_is_refused(app, world):
    client = client_of(app, "admin")
    before = points()
    data = new_point_form(client, unit=INSIDE, label="Quầy 9")
    for missing in ("label", "unit"):
        sent = {k: v for k, v in data.items() if k != missing}
        response = client.post("/staff/points/new", data=sent)
        assert response.status_code == 422, missing
    url = f"/staff/points/{world['inside']}"
    response = client.post(url, data={"csrf_token": data["csrf_token"]})
    assert response.status_code == 422 and "This field is required." in response.get_data(
        as_text=True
    )
    assert points() == before


@pytest.mark.parametrize("label", ["Q" * 120, "  Quầy 1  ", "Quầy 1 – Một cửa (tầng 2)"])
def test_the_labels_the_command_line_takes_are_taken(app, world, runner, label):
    client = client_of(app, "admin")
    response = client.post("/staff/points/new", data=new_point_form(client, unit=INSIDE,
                                                                    label=label))  # fmt: skip
    assert response.status_code == 303
    assert points()[-1][1] == label.strip()
    result = runner.invoke(args=["points", "add", INSIDE, "--label", label])
    assert result.exit_code == 0 and points()[-1][1] == label.strip()


HOSTILE = "<script>alert(\"x\")</script> & <b>Quầy</b> '1'"


def test_a_label_with_html_is_shown_as_text_and_its_poster_still_prints(app, world):
    client = client_of(app, "admin")
    response = client.post("/staff/points/new", data=new_point_form(client, unit=INSIDE,
                                                                    label=HOSTILE))  # fmt: skip
    assert response.status_code == 303
    token = response.location.split("#point-")[1]
    assert point(token).label == HOSTILE  # stored as typed
    pages = [response.location, f"/staff/points/{token}", f"/staff/points/{token}/responses",
             f"/staff/points/{token}/display"]  # fmt: skip
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<b>Quầy" not in html, url
        assert str(escape(HOSTILE)) in html, url
    for fmt in ("pdf", "png", "svg"):
        poster = client.get(f"/staff/points/{token}/poster.{fmt}")
        assert poster.status_code == 200 and len(poster.data) > 1000, fmt
    image = Image.open(io.BytesIO(client.get(f"/staff/points/{token}/poster.png").data))
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [f"http://survey.test/s/{token}"]
    # A name with HTML is refused as a rename only for the usual reasons.
    url = f"/staff/points/{world['inside']}"
    renamed = client.post(url, data=form_at(client, url, url) | {"label": HOSTILE})
    assert renamed.status_code == 303 and point(world["inside"]).label == HOSTILE
    assert "<script>alert" not in client.get("/staff/").get_data(as_text=True)


# --- renaming --------------------------------------------------------------------------------


def test_a_renamed_point_keeps_its_token_and_shows_its_new_label(app, world, client):
    manager = client_of(app, "manager")
    token = world["inside"]
    url = f"/staff/points/{token}"
    assert form_at(manager, url, url)["label"] == "Quầy Bến Nghé"
    response = manager.post(url, data=form_at(manager, url, url) | {"label": " Quầy 1 – Hộ tịch "})
    assert response.status_code == 303
    html = manager.get(response.location).get_data(as_text=True)
    assert "Saved." in html and "Quầy 1 – Hộ tịch" in html and "Quầy Bến Nghé" not in html
    assert f"http://survey.test/s/{token}" in html
    assert (point(token).label, point(token).token) == ("Quầy 1 – Hộ tịch", token)
    assert client.get(f"/s/{token}").status_code == 200  # the printed QR still opens the survey


# --- retiring --------------------------------------------------------------------------------


def test_retiring_asks_for_the_box_to_be_ticked(app, world):
    client = client_of(app, "manager")
    token = world["inside"]
    url = f"/staff/points/{token}"
    html = client.get(url).get_data(as_text=True)
    assert "This cannot be undone" in html and "no longer in use" in html
    data = form_at(client, url, f"{url}/retire")
    assert "confirm" not in data  # unticked: a browser sends nothing for it
    assert 'name="confirm" value="y" required' in html  # and will not send the form
    for sent in (data, data | {"confirm": ""}):
        response = client.post(f"{url}/retire", data=sent)
        assert response.status_code == 422
        assert '<p class="msg" id="e-confirm-1">Tick the box to confirm.</p>' in (
            response.get_data(as_text=True)
        )
        assert point(token).active


def test_a_point_retired_here_answers_citizens_as_one_retired_by_the_command_line(
    app, world, runner, client
):
    """The public page, the PAKN form from the counter and the posters say the same for both."""
    admin = client_of(app, "admin")
    url = f"/staff/points/{world['inside']}"
    response = admin.post(f"{url}/retire", data=form_at(admin, url, f"{url}/retire") | {
        "confirm": "y"})  # fmt: skip
    assert response.status_code == 303
    html = admin.get(response.location).get_data(as_text=True)
    assert "Quầy Bến Nghé is retired: its QR code now says it is no longer in use." in html
    assert f"/staff/points/{world['inside']}/poster" not in html
    assert runner.invoke(args=["points", "retire", world["outside"]]).exit_code == 0
    answers = {}
    for side in ("inside", "outside"):
        token = world[side]
        survey = client.get(f"/s/{token}")
        pakn = client.get(f"/pakn/new?point={token}")
        page = survey.get_data(as_text=True).replace(token, "TOKEN")  # in the language link
        answers[side] = (survey.status_code, page, pakn.status_code,
                         admin.get(f"/staff/points/{token}/poster.pdf").status_code,
                         admin.get(f"/staff/points/{token}/display").status_code)  # fmt: skip
    assert answers["inside"] == answers["outside"]  # the same page, word for word
    assert answers["inside"][::2] == (410, 404, 410)
    assert "Điểm khảo sát này không còn được sử dụng." in answers["inside"][1]
    # Its page offers no way back, and the command line sees it retired.
    page = admin.get(url).get_data(as_text=True)
    assert f"{url}/retire" not in page and "retired on" in page
    listed = runner.invoke(args=["points", "list", INSIDE]).output.rstrip("\n").split("\t")
    assert listed[5] == "retired" and re.fullmatch(r"\d{4}-\d\d-\d\d", listed[6])


def test_retiring_twice_keeps_the_first_day(app, world):
    client = client_of(app, "manager")
    url = f"/staff/points/{world['inside']}"
    data = form_at(client, url, f"{url}/retire") | {"confirm": "y"}
    assert client.post(f"{url}/retire", data=data).status_code == 303
    first = point(world["inside"]).retired_at
    again = client.post(f"{url}/retire", data=data)
    assert again.status_code == 303
    assert point(world["inside"]).retired_at == first
    assert "Quầy Bến Nghé was already retired." in client.get(again.location).get_data(as_text=True)


# --- languages -------------------------------------------------------------------------------


def test_messages_are_in_english_with_the_english_locale(app, world):
    client = client_of(app, "manager", language="en")
    html = client.get("/staff/points/new").get_data(as_text=True)
    assert "New survey point" in html and "Counter name" in html
    refused = client.post("/staff/points/new", data=new_point_form(client, label=""))
    assert "This field is required." in refused.get_data(as_text=True)
    url = f"/staff/points/{world['inside']}"
    assert "Tick the box to confirm." in client.post(
        f"{url}/retire", data=form_at(client, url, f"{url}/retire")
    ).get_data(as_text=True)


def test_messages_are_in_vietnamese_by_default(app, world):
    client = client_of(app, "manager", language="vi")
    refused = client.post("/staff/points/new", data=new_point_form(client, label=""))
    html = refused.get_data(as_text=True)
    assert "Mục này là bắt buộc." in html and "This field is required." not in html
    long = client.post("/staff/points/new", data=new_point_form(client, label="Q" * 10_000))
    assert "Nhập tối đa 120 ký tự." in long.get_data(as_text=True)
    tab = client.post("/staff/points/new", data=new_point_form(client, label="Quầy\t1"))
    assert "Không dùng xuống dòng, tab hay ký tự ẩn ở đây." in tab.get_data(as_text=True)
    url = f"/staff/points/{world['inside']}"
    renamed = client.post(url, data=form_at(client, url, url) | {"label": "Quầy 1"})
    assert "Đã lưu." in client.get(renamed.location).get_data(as_text=True)


def test_the_new_messages_are_in_vietnamese_by_default(app, world):
    """The catalogue's translations of this page's own messages."""
    client = client_of(app, "manager", language="vi")
    html = client.get("/staff/points/new").get_data(as_text=True)
    assert "Điểm khảo sát mới" in html and "Tên quầy" in html
    added = client.post("/staff/points/new", data=new_point_form(client, unit=INSIDE,
                                                                 label="Quầy 2"))  # fmt: skip
    listed = client.get(added.location).get_data(as_text=True)
    assert "Đã thêm điểm khảo sát Quầy 2 cho Phường Bến Nghé." in listed
    url = f"/staff/points/{world['inside']}"
    unticked = client.post(f"{url}/retire", data=form_at(client, url, f"{url}/retire"))
    assert "Hãy đánh dấu vào ô để xác nhận." in unticked.get_data(as_text=True)
