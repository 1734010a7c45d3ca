"""A case cannot be sent to a unit that has closed; the case page suggests only open units."""

import re
from datetime import timedelta

from core.extensions import db
from core.models import local_today
from feedback.services import apply_action
from feedback.workflow import Action
from tests.conftest import login, page_forms


def transfer(client, case_id, unit):
    page = client.get(f"/staff/cases/{case_id}").get_data(as_text=True)
    form = next(f for f in page_forms(page) if f["fields"].get("action") == "transfer")
    return client.post(f"/staff/cases/{case_id}", data={**form["fields"], "unit": unit})


def test_a_case_is_not_transferred_to_a_closed_unit(client, staff, make_case, tree):
    case = make_case("26734")
    apply_action(case, Action.CLASSIFY, staff["admin"], case.version, outcome="outside")
    db.session.commit()
    tree["26737"].closed_on = local_today() - timedelta(days=3)
    db.session.commit()
    login(client, "admin@x.vn")
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    suggested = re.search(r'<datalist id="units">(.*?)</datalist>', page, re.S).group(1)
    assert 'value="26737"' not in suggested and 'value="26734"' in suggested
    refused = transfer(client, case.id, "26737")
    assert refused.status_code == 422
    assert "This unit has closed: choose the unit that took over its work." in refused.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert case.unit.code == "26734" and case.state == "classified"
    assert transfer(client, case.id, "26800").status_code == 303
    db.session.expire_all()
    assert case.unit.code == "26800"
