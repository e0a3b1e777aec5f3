"""Reconciliation API 0.2 (issue 18): every answer checked against the upstream 0.2 JSON schemas.

The schemas (and the upstream valid/invalid examples, replayed first so the validator itself is
known to work) are read from ../shared/schemas/reconciliation-0.2/, never copied here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from urllib.parse import urlencode

import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from catalog.reconcile.limits import limiter
from catalog.services import reconciling
from catalog.services.reconciling.index import clear_cache

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def shared_dir() -> Path:
    """../shared next to the checkout (CI), or next to the folder of worktrees (development)."""
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "schemas").is_dir():
            return base / "shared"
    if IN_CI:
        pytest.fail("../shared/schemas is missing: the contract schemas are needed under CI=true")
    pytest.skip("../shared/schemas not found")


class Schemas:
    """Draft 7 validators for the 0.2 schemas, $refs resolved between the files by their $id."""

    def __init__(self) -> None:
        self.folder = shared_dir() / "schemas" / "reconciliation-0.2"
        self.docs = {p.stem: json.loads(p.read_text()) for p in self.folder.glob("*.json")}
        registry = Registry()
        for doc in self.docs.values():
            resource = Resource.from_contents(doc, default_specification=DRAFT7)
            registry = registry.with_resource(doc["$id"].rstrip("#"), resource)
            registry = registry.with_resource(doc["$id"], resource)
        self.registry = registry

    def validator(self, name: str) -> Draft7Validator:
        return Draft7Validator(self.docs[name], registry=self.registry)

    def check(self, name: str, instance) -> None:
        errors = sorted(self.validator(name).iter_errors(instance), key=lambda e: e.path)
        assert not errors, f"{name}: " + "; ".join(
            f"{list(e.path)}: {e.message[:200]}" for e in errors[:5]
        )


@pytest.fixture(scope="module")
def schemas() -> Schemas:
    return Schemas()


def test_the_validator_accepts_the_upstream_valid_examples_and_refuses_the_invalid(schemas):
    checked = 0
    for folder in sorted((schemas.folder / "examples").iterdir()):
        name = folder.name
        for example in sorted(folder.glob("*/*.json")):
            instance = json.loads(example.read_text())
            valid = schemas.validator(name).is_valid(instance)
            assert valid == (example.parent.name == "valid"), example
            checked += 1
    assert checked >= 30


@pytest.fixture
def world(app, make_course, make_pending_course, users):
    limiter.reset()
    clear_cache()  # the previous test's database had the same URL
    made = {
        "deesc": make_course(
            "Introduction to De-escalation (1 hour)",
            provider="show-me-academy",
            hours="1",
            areas={"skill-development": 1},
            topics=["de-escalation"],
            description="Verbal skills to calm a crisis.",
        ),
        "verbal": make_course(
            "Verbal De-escalation for Supervisors",
            hours="2",
            delivery="online",
            areas={"interpersonal-perspectives": 2},
            topics=["de-escalation"],
        ),
        "bias_a": make_course(
            "Implicit Bias Awareness",
            provider="provider-a",
            areas={"interpersonal-perspectives": 1},
        ),
        "bias_b": make_course(
            "Implicit Bias Awareness",
            provider="provider-b",
            areas={"interpersonal-perspectives": 1},
        ),
        "legal": make_course("Legal Update 2026", areas={"legal-studies": 1}),
        "rifle": make_course("Patrol Rifle Qualification", hours="4", topics=["firearms"]),
        "expired": make_course(
            "Ethics in Policing", approved_until=dt.date.today() - dt.timedelta(days=1)
        ),
    }
    pending = make_pending_course(users["providers"][0], "Report Writing Essentials")
    made["pending"] = pending
    return {k: v.id for k, v in made.items()}


def reconcile(client, queries: dict, method="POST"):
    if method == "GET":
        return client.get("/reconcile?" + urlencode({"queries": json.dumps(queries)}))
    return client.post("/reconcile", data={"queries": json.dumps(queries)})


def results(client, schemas, queries: dict, method="POST") -> dict:
    schemas.check("reconciliation-query-batch", queries)
    answer = reconcile(client, queries, method)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    body = answer.get_json()
    schemas.check("reconciliation-result-batch", body)
    assert set(body) == set(queries)
    return {k: v["result"] for k, v in body.items()}


def test_manifest_and_jsonp(client, world, schemas):
    answer = client.get("/reconcile")
    assert answer.status_code == 200
    manifest = answer.get_json()
    schemas.check("manifest", manifest)
    assert manifest["versions"] == ["0.2"]
    assert {t["id"] for t in manifest["defaultTypes"]} == {"course", "category"}
    assert "{{id}}" in manifest["view"]["url"] and "{{id}}" in manifest["preview"]["url"]
    assert manifest["batchSize"] == 10
    assert set(manifest["suggest"]) == {"entity", "type", "property"}
    # Every URL the manifest names answers.
    for url in (
        manifest["preview"]["url"].replace("{{id}}", str(world["deesc"])),
        manifest["view"]["url"].replace("{{id}}", str(world["deesc"])),
        *(
            s["service_url"] + s["service_path"] + "?prefix=de"
            for s in manifest["suggest"].values()
        ),
        manifest["extend"]["propose_properties"]["service_url"]
        + manifest["extend"]["propose_properties"]["service_path"],
    ):
        assert client.get(url).status_code in (200, 302), url
    jsonp = client.get("/reconcile?callback=jQuery123_456")
    assert jsonp.mimetype == "application/javascript"
    text = jsonp.get_data(as_text=True)
    assert text.startswith("/**/jQuery123_456(") and text.endswith(");")
    schemas.check("manifest", json.loads(text[len("/**/jQuery123_456(") : -2]))
    bad = client.get("/reconcile?callback=alert(1)//")
    assert bad.status_code == 400 and bad.get_json()["error"]


def test_targets_typo_exact_and_absent_titles(client, world, schemas):
    found = results(
        client,
        schemas,
        {
            "typo": {"query": "Intro to Deescalation 1hr", "type": "course"},
            "exact": {"query": "Introduction to De-escalation (1 hour)"},
            "exact2": {"query": "patrol rifle qualification", "type": "course"},
            "wider": {"query": "Advanced De-escalation Tactics"},
            "year": {"query": "Legal Update 2025"},
            "part": {"query": "Patrol Rifle Qualification Part 2"},
            "absent": {"query": "Underwater Basket Weaving"},
            "short": {"query": "Implicit Bias"},
            "blank": {"query": "   "},
        },
        method="GET",
    )
    assert found["typo"][0]["id"] == str(world["deesc"])
    assert found["exact"][0]["id"] == str(world["deesc"]) and found["exact"][0]["match"] is True
    assert found["exact2"][0]["id"] == str(world["rifle"]) and found["exact2"][0]["match"] is True
    for key in ("wider", "year", "part", "absent", "short"):
        assert not any(c["match"] for c in found[key]), (key, found[key][:1])
    assert found["blank"] == []
    top = found["exact"][0]
    features = {f["id"]: f["value"] for f in top["features"]}
    assert features["title_exact"] is True and features["hours_match"] is True
    assert {"title_set", "title_sort", "runner_up_gap"} <= set(features)
    assert top["description"].startswith("Show Me Academy, 1 h, in-person; Skill Development 1 h")
    assert top["type"] == [{"id": "course", "name": "Approved course"}]
    # Expired and unapproved courses are never candidates.
    everything = results(client, schemas, {"q": {"query": "Ethics in Policing", "limit": 25}})
    seen = {c["id"] for c in everything["q"]}
    assert str(world["expired"]) not in seen and str(world["pending"]) not in seen
    assert all(0 <= c["score"] <= 100 for c in everything["q"])


def test_two_courses_of_one_title_match_only_once_the_provider_tells_them_apart(
    client, world, schemas
):
    found = results(
        client,
        schemas,
        {
            "plain": {"query": "Implicit Bias Awareness"},
            "a": {
                "query": "Implicit Bias Awareness",
                "properties": [{"pid": "provider", "v": "provider-a"}],
            },
            "b": {
                "query": "Implicit Bias Awareness",
                "properties": [
                    {"pid": "provider", "v": {"id": "provider-b"}},
                    {"pid": "hours", "v": 1},
                ],
            },
            "number": {
                "query": "Something else entirely",
                "properties": [{"pid": "control_number", "v": f"MO-T-{world['legal']:05d}"}],
            },
        },
    )
    assert {c["id"] for c in found["plain"][:2]} == {str(world["bias_a"]), str(world["bias_b"])}
    assert not found["plain"][0]["match"]
    assert found["a"][0]["id"] == str(world["bias_a"]) and found["a"][0]["match"]
    assert found["b"][0]["id"] == str(world["bias_b"]) and found["b"][0]["match"]
    assert found["number"][0]["id"] == str(world["legal"]) and found["number"][0]["score"] == 100


def test_category_type_answers_the_engine_suggestion_with_its_evidence(client, world, schemas):
    found = results(
        client,
        schemas,
        {
            "q0": {"query": "Intro to Deescalation 1hr", "type": "category"},
            "q1": {"query": "Underwater Basket Weaving", "type": "category"},
            "q2": {"query": "Handgun qualification", "type": ["category", "course"]},
            "q3": {"query": "x", "type": "no-such-type"},
        },
    )
    top = found["q0"][0]
    assert top["id"] == "de-escalation" and top["match"] is True
    assert "title contains" in top["description"]
    assert any(f["id"] == "evidence_phrase" for f in top["features"])
    assert not any(c["match"] for c in found["q1"])
    assert found["q2"][0]["id"] == "firearms"
    assert found["q3"] == []


def test_extend_and_propose_properties(client, world, schemas):
    proposal = client.get("/reconcile/propose_properties?type=course&limit=20").get_json()
    schemas.check("data-extension-property-proposal", proposal)
    props = [p["id"] for p in proposal["properties"]]
    assert {"areas", "topics", "hours", "delivery", "provider", "approved_until"} <= set(props)
    assert {"control_number", "url"} <= set(props)
    schemas.check(
        "data-extension-property-proposal",
        client.get("/reconcile/propose_properties?type=category").get_json(),
    )
    query = {
        "ids": [str(world["deesc"]), str(world["expired"]), "de-escalation", "nope"],
        "properties": [{"id": p} for p in props],
    }
    schemas.check("data-extension-query", query)
    answer = client.post("/reconcile", data={"extend": json.dumps(query)})
    assert answer.status_code == 200
    body = answer.get_json()
    schemas.check("data-extension-response", body)
    row = body["rows"][str(world["deesc"])]
    assert row["areas"] == [
        {"id": "skill-development", "name": "Skill Development", "description": "1 h"}
    ]
    assert row["area_hours"] == [{"str": "skill-development:1"}]
    assert row["topics"] == [{"id": "de-escalation", "name": "De-escalation"}]
    assert row["hours"] == [{"int": 1}]
    assert row["provider"] == [{"id": "show-me-academy", "name": "Show Me Academy"}]
    assert row["control_number"] == [{"str": f"MO-T-{world['deesc']:05d}"}]
    assert row["url"][0]["str"].endswith(f"/courses/{world['deesc']}")
    assert row["approved_until"][0]["date"].endswith("T00:00:00Z")
    assert all(v == [] for v in body["rows"][str(world["expired"])].values())
    assert all(v == [] for v in body["rows"]["nope"].values())
    assert {m["id"] for m in body["meta"]} == set(props)


def test_suggest_services(client, world, schemas):
    entity = client.get("/reconcile/suggest/entity?prefix=intro").get_json()
    schemas.check("suggest-entities-response", entity)
    assert entity["result"][0]["id"] == str(world["deesc"])
    cats = client.get("/reconcile/suggest/entity?prefix=de-esc&type=category").get_json()
    schemas.check("suggest-entities-response", cats)
    assert cats["result"][0]["id"] == "de-escalation"
    types = client.get("/reconcile/suggest/type?prefix=cat").get_json()
    schemas.check("suggest-types-response", types)
    assert [t["id"] for t in types["result"]] == ["category"]
    props = client.get("/reconcile/suggest/property?prefix=prov").get_json()
    schemas.check("suggest-properties-response", props)
    assert props["result"][0]["id"] == "provider"
    for url in (
        "/reconcile/suggest/entity?prefix=",
        "/reconcile/suggest/entity?prefix=%00%ff&cursor=-1",
        "/reconcile/suggest/entity?prefix=zzzzqqq&cursor=99999999999",
        "/reconcile/suggest/property",
        "/reconcile/suggest/type?callback=cb",
    ):
        assert client.get(url).status_code == 200, url


def test_preview_has_its_own_framing_policy(client, world):
    answer = client.get(f"/reconcile/preview?id={world['deesc']}")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert "Introduction to De-escalation (1 hour)" in html and "Skill Development" in html
    assert "X-Frame-Options" not in answer.headers
    policy = answer.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in policy and "script-src" not in policy
    assert client.get("/reconcile/preview?id=de-escalation").status_code == 200
    for missing in (str(world["expired"]), str(world["pending"]), "nope", ""):
        assert client.get(f"/reconcile/preview?id={missing}").status_code == 404
    # The rest of the site still refuses to be framed.
    assert client.get("/").headers["X-Frame-Options"] == "DENY"


def test_no_cookies_no_session_cors_everywhere(client, world, users, login):
    login(users["staff"])  # a signed-in browser: the service must not use or renew the session
    for method, url, data in [
        ("GET", "/reconcile", None),
        ("GET", "/reconcile?queries=" + json.dumps({"q": {"query": "bias"}}), None),
        ("POST", "/reconcile", {"queries": json.dumps({"q": {"query": "bias"}})}),
        ("POST", "/reconcile", {"queries": "{not json"}),
        ("GET", f"/reconcile/preview?id={world['deesc']}", None),
        ("GET", "/reconcile/suggest/entity?prefix=bias", None),
        ("GET", "/reconcile/propose_properties", None),
        ("OPTIONS", "/reconcile", None),
    ]:
        answer = client.open(url, method=method, data=data)
        assert answer.status_code < 500
        assert answer.headers["Access-Control-Allow-Origin"] == "*", url
        assert "Set-Cookie" not in answer.headers, url
        assert "Cookie" not in answer.headers.get("Vary", ""), url


def test_bad_and_oversized_batches(client, world):
    for raw in ("{not json", "[1, 2]", '{"q": 3}', '{"q": {"query": 5}}', "[" * 50_000):
        answer = client.post("/reconcile", data={"queries": raw})
        assert answer.status_code == 400, raw[:20]
        assert set(answer.get_json()) == {"error", "details"}
    too_many = {f"q{i}": {"query": "bias"} for i in range(reconciling.MAX_BATCH + 1)}
    answer = reconcile(client, too_many)
    assert answer.status_code == 413 and "at most" in answer.get_json()["error"]
    answer = reconcile(client, {"q": {"query": "x" * (reconciling.MAX_QUERY_CHARS + 1)}})
    assert answer.status_code == 413
    big = client.post("/reconcile", data={"queries": "{" + " " * 300_000 + "}"})
    assert big.status_code == 413 and big.get_json()["error"].startswith("The request is too large")
    assert big.headers["Access-Control-Allow-Origin"] == "*"
    bad_extend = client.post("/reconcile", data={"extend": '{"ids": 1}'})
    assert bad_extend.status_code == 400


@pytest.mark.app_config(RECONCILE_RATE_PER_MINUTE=30)
def test_rate_limit_answers_429_with_retry_after(client, world):
    batch = {f"q{i}": {"query": "bias"} for i in range(10)}
    statuses = [reconcile(client, batch).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = reconcile(client, batch)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert "wait" in refused.get_json()["error"]


def test_openrefine_session_end_to_end(app_factory, world, schemas):
    """What OpenRefine does: manifest, form-encoded batches of 10 with no CSRF token and no
    cookie (on an app with CSRF on), then data extension of the matched cells, then the preview
    of a candidate in its frame."""
    app = app_factory(WTF_CSRF_ENABLED=True)
    client = app.test_client(use_cookies=False)
    headers = {"User-Agent": "OpenRefine/3.8.2", "Origin": "http://127.0.0.1:3333"}
    manifest = client.get("/reconcile", headers=headers).get_json()
    schemas.check("manifest", manifest)
    # A plain form elsewhere still needs its token on this app.
    assert client.post("/login", data={"email": "x@y.z", "password": "p"}).status_code == 400
    cells = [
        "Intro to Deescalation 1hr",
        "introduction to de-escalation (1 hour)",
        "Verbal Deescalation for Supervisers",
        "Patrol Rifle Qualification",
        "Underwater Basket Weaving",
        "Legal Update 2026",
    ] * 4 + ["Implicit Bias Awareness"]
    expected = {0: world["deesc"], 1: world["deesc"], 2: world["verbal"], 3: world["rifle"]}
    size = manifest["batchSize"]
    matched: dict[int, str] = {}
    for start in range(0, len(cells), size):
        batch = {
            f"q{i}": {"query": cells[i], "type": "course", "limit": 3, "type_strict": "should"}
            for i in range(start, min(start + size, len(cells)))
        }
        schemas.check("reconciliation-query-batch", batch)
        answer = client.post(
            "/reconcile",
            data=urlencode({"queries": json.dumps(batch)}),
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)[:200]
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        assert "Set-Cookie" not in answer.headers
        body = answer.get_json()
        schemas.check("reconciliation-result-batch", body)
        assert len(body) == len(batch) <= size
        for key, value in body.items():
            i = int(key[1:])
            candidates = value["result"]
            if i < 24 and i % 6 in expected:
                assert candidates[0]["id"] == str(expected[i % 6]), (cells[i], candidates[:1])
            if candidates and candidates[0]["match"]:
                matched[i] = candidates[0]["id"]
    assert not any(i % 6 == 4 for i in matched)  # never a match for a course not in the catalog
    assert {matched.get(i) for i in (1, 7, 13, 19)} == {str(world["deesc"])}
    assert matched.get(24) is None  # two providers have this title: no clear winner
    # Data extension of the matched column, as OpenRefine posts it.
    proposal = client.get(
        manifest["extend"]["propose_properties"]["service_path"] + "?type=course",
        headers=headers,
    ).get_json()
    schemas.check("data-extension-property-proposal", proposal)
    wanted = {
        "ids": sorted(set(matched.values())),
        "properties": [{"id": p["id"]} for p in proposal["properties"]],
    }
    answer = client.post(
        "/reconcile",
        data=urlencode({"extend": json.dumps(wanted)}),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )
    assert answer.status_code == 200
    body = answer.get_json()
    schemas.check("data-extension-response", body)
    assert set(body["rows"]) == set(wanted["ids"])
    assert body["rows"][str(world["deesc"])]["topics"][0]["id"] == "de-escalation"
    # The preview, loaded in OpenRefine's iframe from another origin.
    url = manifest["preview"]["url"].replace("{{id}}", str(world["deesc"]))
    preview = client.get(url, headers={**headers, "Sec-Fetch-Dest": "iframe"})
    assert preview.status_code == 200 and preview.mimetype == "text/html"
    assert "X-Frame-Options" not in preview.headers
    assert "frame-ancestors *" in preview.headers["Content-Security-Policy"]


def test_a_newly_approved_course_is_found_once_the_index_may_be_rebuilt(
    app, client, world, make_course, schemas
):
    app.config["RECONCILE_INDEX_MAX_AGE"] = 0
    query = {"q": {"query": "Sovereign Citizen Encounters"}}
    assert not any(c["match"] for c in results(client, schemas, query)["q"])
    added = make_course("Sovereign Citizen Encounters", areas={"legal-studies": 1})
    found = results(client, schemas, query)["q"]
    assert found[0]["id"] == str(added.id) and found[0]["match"] is True
