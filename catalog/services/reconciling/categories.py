"""Category candidates: the engine's areas and topics for each query's title, with its evidence;
the top one is a match when the engine is confident and it leads its kind by MATCH_MARGIN."""

from __future__ import annotations

from catalog.services.reconciling.queries import MATCH_MARGIN, TYPES, Query, query_hours
from catalog.services.suggesting import get_engine
from mapping import CourseInput


def reconcile_categories(session, jurisdiction, queries: list[Query]) -> dict[str, list]:
    """Candidates, best first, for each category query: `{key: [candidate, ...]}`."""
    engine = get_engine(session, jurisdiction)
    inputs = []
    for q in queries:
        hours = query_hours(q)
        delivery = (q.properties.get("delivery") or [None])[0]
        inputs.append(CourseInput(title=q.text, hours=hours, delivery=delivery))
    out: dict[str, list] = {}
    for q, suggestion in zip(queries, engine.suggest_many(inputs), strict=True):
        areas = [a for a in suggestion.areas if a.score > 0]
        kinds = {id(e): "area" for e in areas} | {id(t): "topic" for t in suggestion.topics}
        # Best first; on a tie the topic (the narrower designation) before the area.
        entries = sorted(
            [*areas, *suggestion.topics], key=lambda e: (-e.score, kinds[id(e)] != "topic")
        )
        results = []
        for rank, e in enumerate(entries[: q.limit]):
            kind = kinds[id(e)]
            # An area and a topic do not compete (a course has both): the runner-up is the
            # best other category of the same kind.
            runner_up = next((o.score for o in entries if o is not e and kinds[id(o)] == kind), 0)
            gap = e.score - runner_up
            features = {"engine_score": e.score, "confident": bool(e.confident)}
            for ev in e.evidence:
                name = f"evidence_{ev.get('kind', 'other')}"
                features[name] = max(features.get(name, 0), int(ev.get("score") or 0))
            feature_list = [{"id": k, "value": v} for k, v in features.items()]
            feature_list.append({"id": "runner_up_gap", "value": gap})
            why = "; ".join(
                dict.fromkeys(str(ev.get("text")) for ev in e.evidence if ev.get("text"))
            )
            results.append(
                {
                    "id": e.slug,
                    "name": e.name,
                    "score": e.score,
                    "match": rank == 0 and bool(e.confident) and gap >= MATCH_MARGIN,
                    "description": f"{kind}: {why}" if why else kind,
                    "type": [{"id": "category", "name": TYPES["category"]}],
                    "features": feature_list,
                }
            )
        out[q.key] = results
    return out
