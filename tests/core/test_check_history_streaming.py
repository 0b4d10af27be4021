"""``check_history`` streams: it reads each table and its history a chunk of records at a time, so
its memory and its number of queries grow with the number of chunks, not with the rows it holds,
and it finds exactly what reading everything at once found (issue 23)."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import history
from core.history import tracked_models, unrecorded_changes
from projects.models import Project
from tests.factories import ProjectFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.history_bypass("writes behind the history's back on purpose"),
]

BIG = 1_000_000


def all_in_memory(models_to_check=None) -> list[str]:
    """The audit as it was before it streamed: every history row of a table in one dict."""
    problems = []
    for model in models_to_check or tracked_models():
        history_model = model.history.model
        pk = model._meta.pk.attname
        fields = [f.attname for f in history_model.tracked_fields]
        latest = {}
        for row in history_model.objects.order_by("history_date", "history_id").values(
            "history_type", *fields
        ):
            latest[row[pk]] = row
        label = model._meta.label
        seen = set()
        for row in model._default_manager.values(*fields):
            seen.add(row[pk])
            last = latest.get(row[pk])
            if last is None:
                problems.append(f"{label} {row[pk]}: written without a history row")
            elif last["history_type"] == "-":
                problems.append(f"{label} {row[pk]}: exists, but its history says it was deleted")
            else:
                changed = [f for f in fields if last[f] != row[f]]
                if changed:
                    problems.append(f"{label} {row[pk]}: {', '.join(changed)} changed without a history row")
        problems += [
            f"{label} {key}: deleted without a history row"
            for key, last in latest.items()
            if key not in seen and last["history_type"] != "-"
        ]
    return problems


def audit(monkeypatch, chunk_size, models_to_check=None):
    monkeypatch.setattr(history, "CHECK_CHUNK_SIZE", chunk_size)
    return unrecorded_changes(models_to_check)


def command_output(monkeypatch, chunk_size):
    monkeypatch.setattr(history, "CHECK_CHUNK_SIZE", chunk_size)
    out = io.StringIO()
    try:
        call_command("check_history", stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), None


@pytest.fixture
def projects():
    """Eleven projects (more than a few chunks of three), each with a few history rows."""
    made = [ProjectFactory(location=f"一期{n}") for n in range(11)]
    for project in made[::2]:
        project.location = f"二期{project.pk}"
        project.save()
    return made


def test_a_clean_database_streams_clean_whatever_the_chunk(monkeypatch, projects):
    assert audit(monkeypatch, 3) == [] == all_in_memory()
    assert audit(monkeypatch, 1) == []
    assert command_output(monkeypatch, 3) == ("The history matches every record.\n", None)


def test_small_chunks_find_exactly_what_one_big_chunk_finds(monkeypatch, projects):
    # Changed behind the history's back, in different chunks.
    changed = [projects[0], projects[4], projects[10]]
    Project.objects.filter(pk__in=[p.pk for p in changed]).update(location="悄悄改的")
    Project.objects.filter(pk=projects[5].pk).update(contact_person="无记录", on_white_list=True)
    # Changed only in a field the history leaves out: not a problem.
    Project.objects.filter(pk=projects[6].pk).update(version=99)
    # Created without history.
    created = Project.objects.bulk_create(
        [
            Project(name=f"批量无记录{n}", enterprise=projects[0].enterprise, park=projects[0].park)
            for n in range(4)
        ]
    )
    # Deleted without history (one of them in the middle of the ids, one at the end).
    deleted = [projects[2], projects[9]]
    Project.objects.filter(pk__in=[p.pk for p in deleted])._raw_delete(connection.alias)
    # Deleted with history: not a problem.
    projects[3].delete()
    # Deleted with history, then put back behind its back.
    ghost = projects[7]
    ghost_pk = ghost.pk
    ghost.delete()
    ghost.pk = ghost_pk
    Project.objects.bulk_create(
        [Project(pk=ghost.pk, name=ghost.name, enterprise=ghost.enterprise, park=ghost.park)]
    )
    # The last history row is the last by date, not by id: the save is dated before the creation.
    project = projects[8]
    project.location = "三期"
    project.save()
    newest = Project.history.filter(id=project.pk).order_by("-history_id").first()
    Project.history.filter(history_id=newest.history_id).update(
        history_date=newest.history_date - datetime.timedelta(days=400)
    )

    big = audit(monkeypatch, BIG)
    assert sorted(big) == sorted(all_in_memory())
    for size in (1, 2, 3, 4, 10):
        assert audit(monkeypatch, size) == big, size
    label = "projects.Project"
    assert big == [
        *(
            f"{label} {p.pk}: on_white_list, contact_person changed without a history row"
            if p == projects[5]
            else f"{label} {p.pk}: exists, but its history says it was deleted"
            if p == ghost
            else f"{label} {p.pk}: location changed without a history row"
            for p in sorted([*changed, projects[5], ghost, project], key=lambda p: p.pk)
        ),
        *(f"{label} {p.pk}: written without a history row" for p in created),
        *(f"{label} {p.pk}: deleted without a history row" for p in deleted),
    ]

    output, error = command_output(monkeypatch, 3)
    assert (output, error) == command_output(monkeypatch, BIG)
    assert output == "".join(f"{problem}\n" for problem in big)
    assert error == f"{len(big)} records differ from their history."


def test_other_tables_are_read_in_chunks_too(monkeypatch, projects):
    # The factories made an enterprise, a park and an industry per project.
    from enterprises.models import Enterprise
    from reference.models import Park

    enterprises = list(Enterprise.objects.order_by("pk"))
    Enterprise.objects.filter(pk=enterprises[5].pk).update(name="悄悄改名")
    parks = list(Park.objects.order_by("pk"))
    Project.objects.filter(park=parks[-1])._raw_delete(connection.alias)
    Park.objects.filter(pk=parks[-1].pk)._raw_delete(connection.alias)

    big = audit(monkeypatch, BIG)
    assert sorted(big) == sorted(all_in_memory())
    assert audit(monkeypatch, 3) == big
    assert f"enterprises.Enterprise {enterprises[5].pk}: name changed without a history row" in big
    assert f"reference.Park {parks[-1].pk}: deleted without a history row" in big


def queries_for(monkeypatch, chunk_size, models_to_check=None):
    monkeypatch.setattr(history, "CHECK_CHUNK_SIZE", chunk_size)
    with CaptureQueriesContext(connection) as queries:
        assert unrecorded_changes(models_to_check) == []
    return len(queries)


@pytest.mark.parametrize("count", [10, 40])
def test_the_queries_are_bounded_per_chunk_not_per_row(monkeypatch, count, django_assert_max_num_queries):
    made = [ProjectFactory() for _ in range(count)]
    for project in made:
        project.location = "二期"
        project.save()
    # One chunk holds every row: the same handful of queries for 10 rows as for 40.
    monkeypatch.setattr(history, "CHECK_CHUNK_SIZE", 100)
    with django_assert_max_num_queries(4):
        assert unrecorded_changes([Project]) == []
    # Chunks of ten: two queries a chunk, for the records and then for the history, plus the
    # query that finds the table ends.
    monkeypatch.setattr(history, "CHECK_CHUNK_SIZE", 10)
    with django_assert_max_num_queries(2 * (2 * (count // 10) + 1)):
        assert unrecorded_changes([Project]) == []
    # The whole database: a fixed number of queries per table.
    assert queries_for(monkeypatch, 100) <= 4 * len(tracked_models())


def test_the_whole_audit_runs_as_many_queries_for_40_projects_as_for_10(monkeypatch):
    [ProjectFactory() for _ in range(10)]
    few = queries_for(monkeypatch, 100)
    [ProjectFactory() for _ in range(30)]
    assert queries_for(monkeypatch, 100) == few
