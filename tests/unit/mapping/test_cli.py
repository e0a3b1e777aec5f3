"""The command line, per contracts.md: suggest, suggest --file, evaluate; exit 2 on bad files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mapping.__main__ import main

ROOT = Path(__file__).resolve().parents[3]
GOLD = ROOT / "tests/data/gold_sample.csv"


def test_suggest_one_title(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suggest", "Introduction to De-escalation (1 hour)"]) == 0
    out = capsys.readouterr().out
    assert "de-escalation" in out and "skill-development" in out


def test_suggest_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suggest", "--json", "Patrol Rifle Qualification", "--hours", "2"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["areas"][0]["slug"] == "skill-development" and d["areas"][0]["hours"] == "2"
    assert [t["slug"] for t in d["topics"]] == ["firearms"]


def test_suggest_file_json_one_object_per_row(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suggest", "--file", str(GOLD), "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 5
    first = json.loads(lines[0])
    assert first["title"] == "Introduction to Racial Profiling"
    assert first["topics"][0]["slug"] == "racial-profiling"


def test_evaluate_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(GOLD), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    for key in (
        "n",
        "area_top1",
        "area_top3",
        "topic_precision",
        "topic_recall",
        "topic_f1",
        "confident_wrong",
        "per_topic",
        "seconds",
        "area_top1_unambiguous",
    ):
        assert key in d
    assert d["n"] == 5 and d["area_top1"] == 1.0


def test_evaluate_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(GOLD)]) == 0
    assert "area_top1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("title,topics\nX,\n", "missing column(s) area"),
        ("title,area,topics\nX,not-an-area,\n", "row 2, column 'area'"),
        ("title,area,topics\nX,legal-studies,firearm\n", "row 2, column 'topics'"),
        ("title,area,topics,hours\nX,legal-studies,,two\n", "row 2, column 'hours'"),
        ("title,area,topics\n,legal-studies,\n", "row 2, column 'title'"),
    ],
)
def test_evaluate_bad_file_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, needle: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["evaluate", str(path)]) == 2
    assert needle in capsys.readouterr().err


def test_unreadable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(tmp_path / "missing.csv")]) == 2
    assert main(["suggest", "--file", str(tmp_path / "missing.csv")]) == 2
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00bad")
    assert main(["evaluate", str(tmp_path / "bin.csv")]) == 2


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suggest"]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["--taxonomy", "/nonexistent.toml", "suggest", "x"]) == 2


def test_python_dash_m_from_the_repo(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "mapping", "evaluate", str(GOLD), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["n"] == 5


def test_mapping_imports_no_web_or_database_code() -> None:
    code = (
        "import mapping, mapping.__main__, sys; assert not any(m.split('.')[0] in "
        "{'flask', 'sqlalchemy', 'catalog'} for m in sys.modules), sorted(sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr


def test_suggest_with_examples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    decisions = tmp_path / "decisions.csv"
    rows = ["title,area_hours,topics"]
    rows += [f"Blue Courage Cohort {i},interpersonal-perspectives:2," for i in range(25)]
    rows += [f"Crash Unit {i},technical-studies:1;legal-studies:0.5," for i in range(25)]
    decisions.write_text("\n".join(rows) + "\n")
    courses = tmp_path / "courses.csv"
    courses.write_text("title\nBlue Courage for Sergeants\n")
    assert main(["suggest", "--file", str(courses), "--examples", str(decisions), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["areas"][0]["slug"] == "interpersonal-perspectives"
    assert any(e["kind"] == "learned" for e in d["areas"][0]["evidence"])


def test_bad_examples_file_names_the_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    decisions = tmp_path / "decisions.csv"
    decisions.write_text("title,area,topics\nEthics,no-such-area,\n")
    assert main(["suggest", "Ethics", "--examples", str(decisions)]) == 2
    assert "row 2" in capsys.readouterr().err


def test_evaluate_learn_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(GOLD), "--learn", "0.4", "--seeds", "2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d) >= {"without", "with", "gain"}
    assert d["gain"]["area_top1"] == round(d["with"]["area_top1"] - d["without"]["area_top1"], 4)


def test_evaluate_cv_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(GOLD), "--cv", "source", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["cv"] == "source" and d["with"]["n"] == d["without"]["n"]


@pytest.mark.parametrize("fraction", ["0", "1", "1.5", "-0.2"])
def test_evaluate_learn_bad_fraction(fraction: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(GOLD), "--learn", fraction]) == 2
    assert "fraction" in capsys.readouterr().err


def test_evaluate_curve_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(GOLD), "--curve", "--seeds", "1", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [p["fraction"] for p in d["curve"]] == [0.05, 0.10, 0.25]
    for point in d["curve"]:
        for order in ("random", "teach"):
            assert 0 <= point[order]["catalog_area_top1"] <= 1
