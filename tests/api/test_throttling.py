"""Throttling: anonymous callers and signed-in users each get a request budget, then 429."""

import pytest
from rest_framework.throttling import SimpleRateThrottle


@pytest.fixture
def small_budgets(monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/minute", "user": "5/minute"})


def test_anonymous_callers_are_throttled(small_budgets, api_as):
    client = api_as(None)
    assert [client.get("/api/projects/").status_code for _ in range(3)] == [401, 401, 401]
    response = client.get("/api/projects/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["detail"].startswith("请求已被限流")


def test_each_user_has_their_own_budget(small_budgets, api_as):
    leader, staff = api_as("leader"), api_as("staff_in")
    assert [leader.get("/api/parks/").status_code for _ in range(5)] == [200] * 5
    assert leader.get("/api/parks/").status_code == 429
    assert staff.get("/api/parks/").status_code == 200  # another user's budget is untouched


def test_guessing_tokens_is_throttled(small_budgets, db):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token zp_guess")
    assert [client.get("/api/projects/").status_code for _ in range(3)] == [401, 401, 401]
    assert client.get("/api/projects/").status_code == 429
