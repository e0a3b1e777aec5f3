"""`flask import-catalog`: report, progress on stderr, every row error and exit 1 on a bad file."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from catalog.extensions import db
from catalog.models import AuditEntry, Course


def test_import_reimport_and_bad_file(runner, taxonomy, make_provider, tmp_path):
    make_provider("cli-academy")
    good = tmp_path / "catalog.json"
    good.write_text(
        json.dumps(
            {
                "courses": [
                    {
                        "code": "C-1",
                        "title": "Patrol Rifle Qualification",
                        "hours": 4,
                        "delivery": "In Person",
                        "area_hours": {"skill-development": 4},
                        "topics": ["firearms"],
                    },
                    {"code": "C-2", "title": "Ethics in Policing", "hours": 2},
                ]
            }
        )
    )
    result = runner.invoke(args=["import-catalog", str(good), "--provider", "cli-academy"])
    assert result.exit_code == 0, result.output
    assert "created 2, updated 0, unchanged 0" in result.stdout
    assert "Importing catalog.json" in result.stderr
    again = runner.invoke(args=["import-catalog", str(good), "--provider", "cli-academy"])
    assert "created 0, updated 0, unchanged 2" in again.stdout
    assert db.session.scalar(select(func.count(Course.id))) == 2
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "import-create")
        )
        == 2
    )

    bad = tmp_path / "bad.csv"
    bad.write_text("title,hours,delivery\nNew Course,1,online\n,2,online\nGun Range,1.1,carrier\n")
    result = runner.invoke(args=["import-catalog", str(bad), "--provider", "cli-academy"])
    assert result.exit_code == 1
    assert "row 3, title: title is missing" in result.stderr
    assert "row 4, hours:" in result.stderr and "row 4, delivery:" in result.stderr
    assert db.session.scalar(select(func.count(Course.id))) == 2  # nothing of it written

    missing = tmp_path / "nohead.csv"
    missing.write_text("Name of class,Length\nA,1\n")
    result = runner.invoke(args=["import-catalog", str(missing), "--provider", "cli-academy"])
    assert result.exit_code == 1 and "title" in result.stderr
    result = runner.invoke(args=["import-catalog", str(good), "--provider", "nobody"])
    assert result.exit_code == 1 and "unknown provider" in result.stderr
