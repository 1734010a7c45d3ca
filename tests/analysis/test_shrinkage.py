"""Shrinkage among siblings: when they differ no more than chance, each gets the pooled value,
and the exports say so; when they differ more, each keeps a value of its own."""

import csv
import json

import numpy as np
import openpyxl
import pytest

from analysis import method, warm
from analysis.stats import beta_binomial_eb
from core.extensions import db
from core.models import Unit
from core.unit_tree import rebuild_paths
from tests.analysis.test_indexes import import_rows, response

COMMUNES = ("26734", "26737", "26740")
PERIOD = ["--from=2024-03-01", "--to=2024-03-31", "--shrink"]


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    monkeypatch.setattr(warm, "_cache", {})


@pytest.fixture
def three_communes(tree, questionnaire):
    db.session.add(Unit(code="26740", name="Phường Tân Định", level="Phường", parent=tree["760"]))
    db.session.flush()
    rebuild_paths()
    db.session.commit()
    return tree


def load(satisfied):
    """40 respondents a commune, each answering A1 and B1 alike: satisfied[i] of them 5, the
    others 1."""
    rows = [
        response(code, 5 if i < k else 1, 5 if i < k else 1)
        for code, k in zip(COMMUNES, satisfied, strict=True)
        for i in range(40)
    ]
    import_rows(rows)


def export(runner, tmp_path, name):
    out = tmp_path / name
    result = runner.invoke(args=["analysis", "export", *PERIOD, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def overall(runner, tmp_path):
    with export(runner, tmp_path, "x.csv").open(encoding="utf-8-sig", newline="") as f:
        return {r["unit_code"]: r for r in csv.DictReader(f) if r["measure"] == "overall"}


def method_sheet(runner, tmp_path):
    book = openpyxl.load_workbook(export(runner, tmp_path, "x.xlsx"), read_only=True)
    return [cell for row in book.worksheets[0].iter_rows(values_only=True) for cell in row]


def json_method(runner, tmp_path):
    return json.loads(export(runner, tmp_path, "x.json").read_text("utf-8"))["meta"]["method"]


def test_siblings_no_more_different_than_chance_all_get_the_pooled_value(
    runner, tmp_path, three_communes
):
    load((30, 30, 31))
    # Every respondent scores 0 or 1, so V = p(1 - p)/39 and n_eff = 39 each. With p = 0.75,
    # 0.75, 0.775: between = 39·Σ(p - 0.758333)²/2 = 0.008125, within = 39·Σp(1 - p)/114 =
    # 0.1879: less spread than chance, rho < 0. The pooled value is 39·(0.75 + 0.75 + 0.775)/117
    # = 91/120.
    rows = overall(runner, tmp_path)
    assert [rows[c]["estimate"] for c in COMMUNES] == ["0.75", "0.75", "0.775"]
    assert [float(rows[c]["shrunk_estimate"]) for c in COMMUNES] == [round(91 / 120, 6)] * 3
    assert [rows[c]["shrunk_pooled"] for c in COMMUNES] == ["true"] * 3
    # Fewer than three siblings with figures: no shrinkage, so nothing pooled either.
    assert rows["760"]["shrunk_estimate"] == rows["760"]["shrunk_pooled"] == ""
    vi, en = method.NOTES["shrunk_pooled"]
    cells = method_sheet(runner, tmp_path)
    assert vi in cells and en in cells
    assert "differ no more than chance" in en and "pooled value" in en
    assert json_method(runner, tmp_path).endswith(en)


def test_siblings_that_differ_keep_their_own_shrunk_values(runner, tmp_path, three_communes):
    load((20, 30, 39))
    rows = overall(runner, tmp_path)
    raw = np.array([0.5, 0.75, 0.975])
    shrunk = np.array([float(rows[c]["shrunk_estimate"]) for c in COMMUNES])
    pooled = raw.mean()  # equal samples of 39
    # Each moves towards the pooled mean without reaching it, and they stay apart.
    assert np.all(np.abs(shrunk - pooled) < np.abs(raw - pooled))
    assert np.all(np.sign(shrunk - pooled) == np.sign(raw - pooled))
    assert len(set(shrunk.tolist())) == 3
    assert [rows[c]["shrunk_pooled"] for c in COMMUNES] == ["false"] * 3
    vi, en = method.NOTES["shrunk_pooled"]
    cells = method_sheet(runner, tmp_path)
    assert vi not in cells and en not in cells
    assert method.OPTIONS["shrink"][1] in cells  # the rule itself is always stated
    assert en not in json_method(runner, tmp_path)


def test_the_between_unit_variance_is_zero_or_positive_as_the_moments_say():
    # Same n: between = n·Σ(p - mean)²/(k - 1), within = n·Σp(1 - p)/(k(n - 1)); rho > 0 iff
    # between > within (n0 = n).
    n = np.array([50.0, 50, 50])
    for x, spread in (([25, 26, 24], False), ([10, 25, 45], True)):
        p = np.array(x) / n
        between = 50 * np.sum((p - p.mean()) ** 2) / 2
        within = 50 * np.sum(p * (1 - p)) / (3 * 49)
        assert bool(between > within) is spread
        result = beta_binomial_eb(x, n)
        assert result.pooled is not spread
        if spread:
            assert np.isfinite(result.a) and len(set(result.posterior.tolist())) == 3
        else:
            assert result.posterior.tolist() == pytest.approx([75 / 150] * 3)
