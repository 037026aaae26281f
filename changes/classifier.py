"""The four questions that classify a change. Pure: a decision table over the
answers, no database. Any "yes" makes the change major; all "no" minor. The
classification is computed, never chosen, and every "yes" must be justified."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

MINOR = "minor"
MAJOR = "major"

# The questions in the order of the change procedure (SPEC.md §2).
QUESTIONS: dict[str, str] = {
    "multiple_users": "Impact on multiple users?",
    "dependencies": "Dependencies on other applications or environments?",
    "unsupported": "Unsupported or experimental?",
    "investment": "Are investments involved?",
}


@dataclass(frozen=True)
class Classification:
    classification: str
    missing_justifications: tuple[str, ...]

    @property
    def is_major(self) -> bool:
        return self.classification == MAJOR


def classify(answers: Mapping[str, bool], justifications: Mapping[str, str]) -> Classification:
    """Classify from the four answers; name each "yes" that lacks a written
    justification. Unknown or missing questions are an error, not a "no"."""
    unknown = set(answers) - QUESTIONS.keys()
    missing = QUESTIONS.keys() - set(answers)
    if unknown or missing:
        raise ValueError(f"answers must be exactly {sorted(QUESTIONS)}")
    yes = [question for question in QUESTIONS if answers[question]]
    unjustified = tuple(q for q in yes if not justifications.get(q, "").strip())
    return Classification(MAJOR if yes else MINOR, unjustified)
