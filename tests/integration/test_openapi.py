"""The OpenAPI 3.1 document (issue 18): valid against the OpenAPI schema read from
../shared/schemas/openapi/, in step with the real routes, readable at /api/v1/docs, and held to by
the app under schemathesis (bounded: a few examples per operation, no 500, every answer matching
its declared status, content type and schema)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator
from schemathesis import checks

from catalog.api.openapi import build_document, documented_rules, openapi_path
from catalog.extensions import db
from catalog.reconcile.limits import limiter
from catalog.services.reconciling.index import clear_cache

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))


@pytest.fixture
def backend() -> str:
    """The HTTP contract is the same on both databases (the data layer is tested on both)."""
    return "sqlite"


def oas_schema() -> dict:
    for base in (ROOT.parent, ROOT.parent.parent):
        path = base / "shared" / "schemas" / "openapi" / "oas-3.1.json"
        if path.exists():
            return json.loads(path.read_text())
    if IN_CI:
        pytest.fail("../shared/schemas/openapi/oas-3.1.json is missing under CI=true")
    pytest.skip("../shared/schemas/openapi not found")


def test_document_is_valid_openapi_3_1(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    errors = list(Draft202012Validator(oas_schema()).iter_errors(document))
    assert not errors, [f"{list(e.path)}: {e.message[:200]}" for e in errors[:5]]
    # Every $ref points at a schema that exists.
    text = json.dumps(document)
    for name in {p.split('"')[0] for p in text.split('"#/components/schemas/')[1:]}:
        assert name in document["components"]["schemas"], name


def test_every_api_and_reconcile_route_is_described_and_nothing_else(app):
    document = build_document(app, "http://localhost")
    wanted = {
        (openapi_path(rule.rule)[0], method.lower())
        for rule in documented_rules(app)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    described = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert described == wanted
    assert {p for p, _ in wanted} >= {
        "/api/v1/courses",
        "/api/v1/courses/{course_id}/decision",
        "/api/v1/catalogs",
        "/api/v1/plan",
        "/api/v1/me",
        "/api/v1/openapi.json",
        "/reconcile",
        "/reconcile/preview",
    }
    undocumented = sorted(
        f"{method.upper()} {path}"
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        if op.get("x-undocumented")
    )
    assert not undocumented, f"add these to catalog/api/openapi_spec.py: {undocumented}"
    for ops in document["paths"].values():
        for op in ops.values():
            assert op["summary"] and op["responses"]


def test_a_new_route_without_a_spec_is_flagged(app):
    @app.get("/api/v1/not-described-yet")
    def not_described_yet():
        """A route someone forgot to describe."""
        return {}

    document = build_document(app, "http://localhost")
    op = document["paths"]["/api/v1/not-described-yet"]["get"]
    assert op["x-undocumented"] is True and op["summary"] == "A route someone forgot to describe."


def test_docs_page_lists_every_operation_and_is_linked_from_the_site(client, taxonomy):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    document = client.get("/api/v1/openapi.json").get_json()
    for path in document["paths"]:
        assert f"<code>{path}</code>" in html, path
    assert 'href="/api/v1/openapi.json"' in html and "/reconcile" in html
    assert 'href="/api/v1/docs"' in client.get("/").get_data(as_text=True)
    manifest = client.get("/reconcile").get_json()
    assert manifest["documentation"].endswith("/api/v1/docs#reconciliation")


# -- schemathesis ----------------------------------------------------------------------------


@pytest.fixture
def api_world(app, make_course, make_pending_course, users):
    """Courses to find and decide, and a staff token for the calls."""
    from catalog.services.accounts import issue_token

    limiter.reset()
    clear_cache()
    make_course("Introduction to De-escalation (1 hour)", topics=["de-escalation"])
    make_course("Handgun Qualification", hours="2", topics=["firearms"])
    make_pending_course(users["providers"][0], "Implicit Bias Awareness")
    _, token = issue_token(db.session, users["staff"], "schemathesis")
    db.session.commit()
    return token


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
PUBLIC_DOCS = {"/api/v1/openapi.json", "/api/v1/docs"}


def test_the_app_keeps_its_openapi_document(app, api_world, capsys):
    """Every operation, EXAMPLES generated calls each (seeded, so a run is repeatable): no 500,
    and every answer's status, content type, headers and body as the document declares."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    token = {"Authorization": f"Bearer {api_world}"}
    calls = {"n": 0}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    document = build_document(app, "http://localhost")
    described = {f"{m.upper()} {p}" for p, ops in document["paths"].items() for m in ops}
    # schemathesis leaves out the document's own path; it is fetched above anyway.
    assert {op.label for op in operations} == described - {"GET /api/v1/openapi.json"}
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case):
            calls["n"] += 1
            headers = None if case.operation.path in PUBLIC_DOCS else token
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    with capsys.disabled():
        print(
            f"\nschemathesis: {len(operations)} operations, {calls['n']} calls, "
            f"{len(CHECKS)} checks each, {len(failures)} failing operations"
        )
    assert not failures, "\n\n".join(failures)


def test_an_id_longer_than_the_database_holds_is_a_404_not_a_500(client, api_world):
    token = {"Authorization": f"Bearer {api_world}"}
    huge = "92578679276445912678665642049536"
    answer = client.post(f"/api/v1/courses/{huge}/decision", json={}, headers=token)
    assert answer.status_code == 404 and set(answer.get_json()) == {"error", "details"}
    assert client.get(f"/courses/{huge}").status_code == 404
    assert client.post(
        f"/api/v1/courses/{2**63 - 1}/decision", json={}, headers=token
    ).status_code in (
        400,
        404,
    )
