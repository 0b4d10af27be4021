"""Tests that need the local Redis: skipped without one, unless CI_REQUIRE_REDIS=1 (.ci/run) says
it must be there, so CI never skips them silently."""

import os

import pytest
import redis


def redis_or_skip(url: str, why: str) -> redis.Redis:
    """A client of ``url`` that answers; else the test is skipped (or fails under CI_REQUIRE_REDIS=1)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        message = f"no Redis at {url}: {why}"
        if os.environ.get("CI_REQUIRE_REDIS") == "1":
            pytest.fail(f"CI_REQUIRE_REDIS=1 but {message}")
        pytest.skip(message)
    return client
