from __future__ import annotations

from itertools import product

import pytest

from changes.classifier import MAJOR, MINOR, QUESTIONS, classify

ALL_ANSWERS = [
    dict(zip(QUESTIONS, values, strict=True)) for values in product([False, True], repeat=4)
]


@pytest.mark.parametrize(
    "answers", ALL_ANSWERS, ids=lambda a: "".join("Y" if v else "n" for v in a.values())
)
def test_all_sixteen_combinations(answers: dict[str, bool]) -> None:
    justified = {q: "because" for q, yes in answers.items() if yes}
    result = classify(answers, justified)
    assert result.classification == (MAJOR if any(answers.values()) else MINOR)
    assert result.missing_justifications == ()
    unjustified = classify(answers, {})
    assert set(unjustified.missing_justifications) == {q for q, yes in answers.items() if yes}


def test_a_blank_justification_does_not_count() -> None:
    answers = dict.fromkeys(QUESTIONS, False) | {"investment": True}
    assert classify(answers, {"investment": "  "}).missing_justifications == ("investment",)


def test_every_question_must_be_answered() -> None:
    with pytest.raises(ValueError):
        classify({"multiple_users": False}, {})
    with pytest.raises(ValueError):
        classify(dict.fromkeys(QUESTIONS, False) | {"colour": True}, {})
