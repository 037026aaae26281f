"""Fixtures of the security tests."""

from __future__ import annotations

import pytest

from tests.base import Personas, make_personas


@pytest.fixture
def people(db: None) -> Personas:
    return make_personas()
