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
