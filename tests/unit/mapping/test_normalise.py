"""Normalisation: folding, noise stripping, identifiers, and spans into the original title."""

from __future__ import annotations

import pytest

from mapping import normalise


@pytest.mark.parametrize(
    "title",
    [
        "De-escalation",
        "Deescalation",
        "De escalation",
        "DE-ESCALATE",
        "Descalation",
        "De-Escalating Encounters",
        "de–escalation",
    ],
)
def test_deescalation_spellings_fold_to_one_token(title: str) -> None:
    assert normalise(title).tokens[0].key == "deescalation"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Implicit Bias (1 hour)", "implicit bia"),
        ("Report Writing (2 hrs)", "report writing"),
        ("CIT - 2-HR Annual Online Training", "cit training"),
        ("Firearms Part II", "firearm"),
        ("Ethics 2023", "ethic"),
        ("Legal Online Refresher Update", "legal"),
        ("Use of Force In-Service", "use of force"),
    ],
)
def test_noise_is_stripped(title: str, expected: str) -> None:
    assert normalise(title).key == expected


def test_ampersand_equals_and_and_double_spaces_collapse() -> None:
    assert (
        normalise("Interview & Interrogation").key == normalise("Interview and Interrogation").key
    )
    assert normalise("Interview  Interrogation").key == normalise("Interview and Interrogation").key


def test_dotted_acronyms_and_plurals() -> None:
    assert normalise("O.C. Spray").key == normalise("OC sprays").key == "oc spray"
    assert normalise("Building Searches").key == "building search"


@pytest.mark.parametrize(
    ("title", "ident"),
    [
        ("Crisis Intervention Training - TCOLE #1850", "tcole:1850"),
        ("Racial Profiling TCOLE Course # 3256", "tcole:3256"),
        ("Cultural Diversity (3939)", "tcole:3939"),
        ("Arrest Control 12345678901234", "ca:12345678901234"),
        ("SB 30 Civilian Interaction", "bill:sb-30"),
        ("Ballot Measure 114 Briefing", "measure:114"),
    ],
)
def test_course_numbers_become_identifiers(title: str, ident: str) -> None:
    norm = normalise(title)
    assert ident in [i for i, _s, _e in norm.identifiers]
    digits = ident.split(":")[1].split("-")[-1]
    assert digits not in norm.key.split()


def test_year_in_parentheses_is_not_a_course_number() -> None:
    assert normalise("Ethics (2019)").identifiers == ()


def test_spans_point_into_the_original_title() -> None:
    title = "2024  Intro to DE-ESCALATION & Verbal Judo (1 hour)"
    norm = normalise(title)
    spans = {t.key: title[t.start : t.end] for t in norm.tokens}
    assert spans["deescalation"] == "DE-ESCALATION"
    assert spans["judo"] == "Judo"
    assert spans["intro"] == "Intro"


def test_unicode_is_tolerated() -> None:
    norm = normalise("Désescalade — Señor Café ✓")
    assert norm.key.startswith("desescalade")
