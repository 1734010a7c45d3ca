"""docs/methods.md against the code: what it names exists and what it states the code uses."""

import ast
import re
from pathlib import Path

import pytest

from analysis import compare, indexes, method, pakn, stats

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "methods.md").read_text("utf-8")


def section(title: str) -> str:
    """Return the text of one '## ' section of the document."""
    parts = re.split(r"^## ", DOC, flags=re.M)
    found = [p for p in parts if p.startswith(title + "\n")]
    assert len(found) == 1, title
    return found[0]


@pytest.mark.parametrize("name", [*indexes.MEASURES, *pakn.PAKN_MEASURES, *method.FLAGS])
def test_every_measure_and_flag_is_described(name):
    assert f"`{name}`" in DOC


def test_the_flag_thresholds_stated_are_the_ones_the_code_uses():
    rows = dict(re.findall(r"^\| `([A-Z_]+)` \| ([\d.]+) \|", section("Flags"), re.M))
    assert rows == {
        "SUPPRESS_BELOW": str(stats.SUPPRESS_BELOW),
        "FEW_ANSWERS_BELOW": str(stats.FEW_ANSWERS_BELOW),
        "IMPRECISE_WIDTH": f"{stats.IMPRECISE_WIDTH:.2f}",
    }
    assert (stats.SUPPRESS_BELOW, stats.FEW_ANSWERS_BELOW, stats.IMPRECISE_WIDTH) == (10, 30, 0.30)
    # The flags the code gives at those thresholds (an independent reading of the rules).
    assert stats.flag(stats.SUPPRESS_BELOW - 1, None, 0.5, 0.6) == "suppressed"
    assert stats.flag(stats.FEW_ANSWERS_BELOW - 1, None, 0.5, 0.6) == "few_answers"
    assert stats.flag(stats.FEW_ANSWERS_BELOW, None, 0.5, 0.6) == ""
    assert stats.flag(stats.FEW_ANSWERS_BELOW, None, 0.4, 0.4 + stats.IMPRECISE_WIDTH) == (
        "imprecise"
    )
    # The method sheet of every export states the same numbers, in both languages.
    (vi_suppressed, en_suppressed), (vi_few, en_few), (vi_wide, en_wide) = method.FLAGS.values()
    assert f"Dưới {stats.SUPPRESS_BELOW} " in vi_suppressed
    assert f"Under {stats.SUPPRESS_BELOW} " in en_suppressed
    assert f"dưới {stats.FEW_ANSWERS_BELOW}" in vi_few
    assert f"under {stats.FEW_ANSWERS_BELOW}" in en_few
    width = f"{stats.IMPRECISE_WIDTH:.2f}"
    assert width.replace(".", ",") in vi_wide and width in en_wide


def test_the_stepdown_limit_stated_is_the_one_the_code_uses():
    text = section("Rank intervals")
    assert re.search(r"K ≤ (\d+) \(`STEPDOWN_MAX_UNITS`", text).group(1) == str(
        stats.STEPDOWN_MAX_UNITS
    )
    assert re.search(r"K > (\d+): Bonferroni", text).group(1) == str(stats.STEPDOWN_MAX_UNITS)
    assert stats.STEPDOWN_MAX_UNITS == 200
    # Above the limit, the critical value is Bonferroni's (z at 1 - 0.05/(K(K - 1))).
    size = stats.STEPDOWN_MAX_UNITS + 1
    theta, variances = [i / size for i in range(size)], [1e-3] * size
    assert stats.rank_critical_value(theta, variances) == stats.rank_critical_value(
        theta, variances, method="bonferroni"
    )


def test_the_flat_variance_stated_is_the_one_the_code_uses():
    assert "V < 1e-14 (`stats.FLAT_VARIANCE`)" in DOC and stats.FLAT_VARIANCE == 1e-14


def _test_names() -> set[str]:
    names = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        names |= {f"{path.relative_to(ROOT)}::{node.name}" for node in tree.body
                  if isinstance(node, ast.FunctionDef)}  # fmt: skip
    return names


def test_every_test_the_document_cites_exists():
    names = _test_names()
    short = {name.split("::")[1] for name in names}
    cited = set(re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", DOC))
    assert cited and {f"{path}::{test}" for path, test in cited} <= names
    bare = set(re.findall(r"`(test_\w+)`", DOC))
    assert len(bare) > 20 and bare <= short, bare - short


def test_every_function_the_document_names_exists():
    modules = {"stats": stats, "compare": compare, "indexes": indexes}
    named = set(re.findall(r"`(stats|compare|indexes)\.(\w+)`", DOC))
    assert len(named) > 10
    missing = [f"{m}.{name}" for m, name in named if not hasattr(modules[m], name)]
    assert not missing


def test_the_procedure_ratios_rule_stated_is_the_one_the_code_uses():
    from feedback import figures

    text = section("PAKN ratios (Decision 766)")
    assert f"`DISSATISFIED_SHARE` = {figures.DISSATISFIED_SHARE}" in text
    assert figures.DISSATISFIED_SHARE == 0.5 and figures.DISSATISFIED_ANSWERS == (1, 2)
    stated = re.search(r"`figures\.PROCEDURE_TOPICS`: (.*?)\. Not", text, re.S).group(1)
    assert set(re.findall(r"`(\w+)`", stated)) == {str(t) for t in figures.PROCEDURE_TOPICS}
    assert {"attitude", "documents_fees", "delay"} == {str(t) for t in figures.PROCEDURE_TOPICS}
    # The method sheet of every export states the same rule, in both languages.
    (vi, en) = method.METHOD[3]
    assert "ít nhất một nửa" in vi and "ở mức 1 hoặc 2" in vi
    assert "at least half" in en and "with 1 or 2" in en
