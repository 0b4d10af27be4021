"""`manage.py backup` and `manage.py restore` on the database the tests run on (SQLite or PostgreSQL).

The round trip: projects with monthly progress and a photo are backed up, then changed, deleted and
added to; the restore brings back exactly the rows and the files of the moment of the backup.
The tests need committed data (pg_dump reads through its own connection), hence transactional_db.
"""

import hashlib
import io
import json
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from PIL import Image

from core import backups
from projects import services
from projects.choices import ProgressStatus
from projects.models import MonthlyProgress, ProgressPhoto, Project
from tests.factories import MonthlyProgressFactory, ProjectFactory, UserFactory

# .ci/run installs the client tools, so in CI (CI=true) a missing one fails rather than skips.
pytestmark = pytest.mark.skipif(
    connection.vendor == "postgresql"
    and not all(map(shutil.which, ["pg_dump", "pg_restore"]))
    and not os.environ.get("CI"),
    reason="pg_dump and pg_restore are needed on PostgreSQL (Debian: postgresql-client)",
)

# (project, year, month, completed investment, status): the state at the moment of the backup.
REPORTS = [
    ("备份项目甲", 2024, 1, Decimal("120.50"), ProgressStatus.DRAFT),
    ("备份项目甲", 2024, 2, Decimal("80.00"), ProgressStatus.APPROVED),
    ("备份项目乙", 2024, 1, Decimal("1500.00"), ProgressStatus.APPROVED),
    ("备份项目乙", 2024, 2, Decimal("0.00"), ProgressStatus.SUBMITTED),
    ("备份项目丙", 2024, 1, Decimal("33.33"), ProgressStatus.APPROVED),
    ("备份项目丙", 2024, 2, Decimal("66.67"), ProgressStatus.APPROVED),
]


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def media_tree(root: Path) -> dict[str, str]:
    """Every file under MEDIA_ROOT, by relative path, with its content's hash."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def reports_now() -> list[tuple]:
    # Sorted here: how Chinese names sort in SQL depends on the database's collation.
    return sorted(
        MonthlyProgress.objects.values_list(
            "project__name", "year", "month", "completed_investment", "status"
        )
    )


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def zone(transactional_db, media):
    """Three projects, two months each, and a photo on the draft report (the only one that takes one)."""
    admin = UserFactory(username="backup-admin", is_superuser=True, is_staff=True)
    projects = {name: ProjectFactory(name=name) for name in dict.fromkeys(row[0] for row in REPORTS)}
    for name, year, month, value, status in REPORTS:
        MonthlyProgressFactory(
            project=projects[name], year=year, month=month, completed_investment=value, status=status
        )
    draft = MonthlyProgress.objects.get(project__name="备份项目甲", month=1)
    upload = SimpleUploadedFile("site.png", png_bytes(), content_type="image/png")
    services.photo_add(report=draft, user=admin, upload=upload, caption="主体封顶")
    return admin


def back_up(tmp_path) -> Path:
    out = io.StringIO()
    call_command("backup", output_dir=tmp_path / "backups", stdout=out)
    (path,) = backups.backups_in(tmp_path / "backups")
    assert f"Backup written to {path}" in out.getvalue()
    return path


def test_restore_brings_back_the_rows_and_the_photos_of_the_backup(zone, media, tmp_path):
    admin = zone
    photo = ProgressPhoto.objects.get()
    photo_files = {photo.image.name, photo.thumbnail.name}
    original_png = (media / photo.image.name).read_bytes()
    files_before = media_tree(media)
    history_before = MonthlyProgress.history.count()
    assert reports_now() == sorted(REPORTS)
    assert set(files_before) == photo_files
    # Six reports created, one history row each.
    assert history_before == 6

    path = back_up(tmp_path)
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["vendor"] == connection.vendor
    assert manifest["media_files"] == 2
    assert manifest["rows"]["projects_project"] == 3
    assert manifest["rows"]["projects_monthlyprogress"] == 6
    assert manifest["rows"]["projects_progressphoto"] == 1

    # After the backup: a value changed, the photo deleted with its files, a project and its
    # reports deleted, a project added, a stray file uploaded.
    draft = MonthlyProgress.objects.get(project__name="备份项目甲", month=1)
    services.progress_save(
        project=draft.project, year=2024, month=1, user=admin, data={"completed_investment": Decimal("999")}
    )
    services.photo_delete(photo=ProgressPhoto.objects.get(), user=admin)
    for report in MonthlyProgress.objects.filter(project__name="备份项目丙"):
        report.delete()
    Project.objects.get(name="备份项目丙").delete()
    ProjectFactory(name="备份之后的项目")
    (media / "later.txt").write_text("uploaded after the backup")
    assert Project.objects.count() == 3
    assert MonthlyProgress.objects.count() == 4
    assert ProgressPhoto.objects.count() == 0
    assert set(media_tree(media)) == {"later.txt"}

    out = io.StringIO()
    call_command("restore", str(path), yes=True, stdout=out)

    assert f"Restored {path}" in out.getvalue()
    assert sorted(Project.objects.values_list("name", flat=True)) == [
        "备份项目丙",
        "备份项目乙",
        "备份项目甲",
    ]
    assert reports_now() == sorted(REPORTS)
    restored = ProgressPhoto.objects.get()
    assert (restored.pk, restored.caption, restored.report_id) == (photo.pk, "主体封顶", draft.pk)
    assert {restored.image.name, restored.thumbnail.name} == photo_files
    assert (media / restored.image.name).read_bytes() == original_png
    # Exactly the files of the backup: the deleted ones back, the later one gone.
    assert media_tree(media) == files_before
    assert MonthlyProgress.history.count() == history_before
    # The restored database takes new rows without clashing with the restored ids.
    added = ProjectFactory(name="恢复之后的项目")
    assert added.pk > max(Project.objects.exclude(pk=added.pk).values_list("pk", flat=True))


def test_restore_without_confirmation_changes_nothing(zone, media, tmp_path):
    path = back_up(tmp_path)
    (media / "later.txt").write_text("uploaded after the backup")
    project = Project.objects.get(name="备份项目乙")
    project.name = "改过名的项目"
    project.save()

    with pytest.raises(CommandError, match="Run again with --yes"):
        call_command("restore", str(path))

    assert Project.objects.filter(name="改过名的项目").count() == 1
    assert (media / "later.txt").read_text() == "uploaded after the backup"


def test_a_damaged_backup_is_refused_before_anything_is_overwritten(zone, media, tmp_path):
    path = back_up(tmp_path)
    database = next(p for p in path.iterdir() if p.name.startswith("database."))
    data = bytearray(database.read_bytes())
    data[len(data) // 2] ^= 0xFF
    database.write_bytes(bytes(data))
    ProjectFactory(name="备份之后的项目")

    with pytest.raises(CommandError, match="does not match its checksum"):
        call_command("restore", str(path), yes=True)
    with pytest.raises(CommandError, match="does not match its checksum"):
        call_command("restore", str(path), check=True)

    assert Project.objects.filter(name="备份之后的项目").count() == 1
    assert MonthlyProgress.objects.count() == 6


def test_a_backup_of_the_other_database_kind_is_refused(zone, tmp_path):
    path = back_up(tmp_path)
    manifest = json.loads((path / "manifest.json").read_text())
    other = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    (path / "manifest.json").write_text(json.dumps(manifest | {"vendor": other}))
    ProjectFactory(name="备份之后的项目")

    with pytest.raises(CommandError, match=f"is a {other} backup and this database is {connection.vendor}"):
        call_command("restore", str(path), yes=True)

    assert Project.objects.filter(name="备份之后的项目").count() == 1


def test_a_folder_that_is_not_a_backup_is_refused(transactional_db, tmp_path):
    with pytest.raises(CommandError, match="is not a backup: it has no manifest.json"):
        call_command("restore", str(tmp_path), yes=True)


def test_check_reports_a_sound_backup_and_keep_deletes_the_oldest(zone, tmp_path):
    for _ in range(3):
        call_command("backup", output_dir=tmp_path / "backups", keep=2, stdout=io.StringIO())
    kept = backups.backups_in(tmp_path / "backups")
    assert len(kept) == 2
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == sorted(p.name for p in kept)

    out = io.StringIO()
    call_command("restore", str(kept[-1]), check=True, stdout=out)
    assert f"{kept[-1]} is sound: {connection.vendor} backup" in out.getvalue()
    assert "2 media files" in out.getvalue()


def test_make_targets_call_the_commands_and_restore_needs_confirm_yes():
    def dry_run(*args):
        return subprocess.run(
            ["make", "-n", *args], cwd=settings.BASE_DIR, capture_output=True, text=True, check=True
        ).stdout

    assert "manage.py backup --output-dir backups" in dry_run("backup")
    restore = dry_run("restore", "BACKUP=backups/zone_portal-20260101-020000")
    assert 'manage.py restore "backups/zone_portal-20260101-020000"' in restore
    assert "--yes" not in restore
    assert "--yes" in dry_run("restore", "BACKUP=backups/zone_portal-20260101-020000", "CONFIRM=yes")
