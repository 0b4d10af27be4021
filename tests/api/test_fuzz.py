"""Schemathesis fuzzes every operation of /api/schema/ against a live server, signed in with an
administrator's token over a small zone: no answer may be a server error, and every answer must match
the schema (status code, content type, body)."""

import datetime
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.throttling import SimpleRateThrottle

from core.api.tokens import create_token
from core.roles import Role
from problems.services import attachment_add, visit_create
from tests.factories import (
    AnnualPlanFactory,
    ApprovalMilestoneFactory,
    BatchMembershipFactory,
    DepartmentFactory,
    EnterpriseFactory,
    MonthlyProgressFactory,
    ProjectFactory,
    UserFactory,
    make_ticket,
)

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# Examples per operation and phases; `FUZZ_EXAMPLES=100 FUZZ_PHASES=examples,coverage,fuzzing` fuzzes
# harder by hand (the coverage phase alone sends thousands of boundary cases: minutes, not for every run).
EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "25")
PHASES = os.environ.get("FUZZ_PHASES", "examples,fuzzing")
INCLUDE = os.environ.get("FUZZ_INCLUDE", "")  # a path regex, to fuzz some operations only
REPORT = Path(__file__).resolve().parents[2] / "test-artifacts" / "schemathesis.txt"


@pytest.fixture
def zone_data(django_db_reset_sequences, settings, tmp_path):
    """A record of every kind, each with id 1 (sequences restart), which the fuzzer uses for `{id}`."""
    settings.MEDIA_ROOT = tmp_path / "media"
    unit = DepartmentFactory(name="经济发展局")
    admin = UserFactory(username="fuzz_admin", roles=[Role.ADMIN], department=unit)
    enterprise = EnterpriseFactory()
    project = ProjectFactory(enterprise=enterprise, responsible_unit=unit)
    AnnualPlanFactory(project=project, year=2024)
    MonthlyProgressFactory(project=project, year=2024, month=1)
    ApprovalMilestoneFactory(project=project)
    BatchMembershipFactory(project=project)
    ticket = make_ticket(enterprise=enterprise, user=admin)
    png = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(png, "PNG")
    attachment_add(ticket=ticket, user=admin, upload=SimpleUploadedFile("批复.png", png.getvalue()))
    visit_create(user=admin, data={"enterprise": enterprise, "visited_on": datetime.date(2024, 3, 1)})
    _token, secret = create_token(admin, name="fuzz", days=1)
    return secret


@pytest.mark.slow
def test_no_server_error_and_every_answer_matches_the_schema(zone_data, live_server, monkeypatch, tmp_path):
    # The fuzzer sends hundreds of requests a minute; the throttles are tested on their own.
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"anon": "100000/minute", "user": "100000/minute"}
    )
    schemathesis = Path(sys.executable).with_name("schemathesis")
    config = tmp_path / "schemathesis.toml"
    # Random ids would nearly all be 404s: the fuzzer works on the records made above instead.
    config.write_text('[parameters]\n"path.id" = 1\n')
    command = [
        str(schemathesis),
        "--config-file",
        str(config),
        "run",
        f"{live_server.url}/api/schema/",
        "--header",
        f"Authorization: Token {zone_data}",
        "--header",
        "Accept-Language: en",
        "--checks",
        CHECKS,
        "--max-examples",
        EXAMPLES,
        "--seed",
        "20261130",
        "--workers",
        "1",
        "--phases",
        PHASES,
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        "--no-color",
        *(["--include-path-regex", INCLUDE] if INCLUDE else []),
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1"},
    )
    output = result.stdout + result.stderr
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(output)
    assert result.returncode == 0, f"see {REPORT}\n" + output[-5000:]
    assert "No issues found" in output or "passed" in output.lower(), output[-5000:]
