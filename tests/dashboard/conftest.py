"""The dashboard tests' shared fixtures: the seeded officers, lists and enterprises (dashkit.seed) and a real
server for them (dashkit.serve); a test module defines its own to seed differently."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.dashboard.dashkit import Fixture, app_for, seed, serve


@pytest.fixture
def fixture(sessions: sessionmaker[Session]) -> Fixture:
    return seed(sessions)


@pytest.fixture
def base_url(sessions: sessionmaker[Session], fixture: Fixture) -> Iterator[str]:
    with serve(app_for(sessions)) as url:
        yield url
