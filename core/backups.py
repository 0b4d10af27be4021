"""Backups of the database and the uploaded files, and restoring them (docs/backup.md).

A backup is a folder ``zone_portal-YYYYMMDD-HHMMSS`` holding:

* ``database.dump`` (PostgreSQL, ``pg_dump --format=custom``) or ``database.sqlite3`` (SQLite, a
  copy made with SQLite's online backup API, so a running server is neither stopped nor caught
  half-written, as a plain file copy could be);
* ``media.tar.gz``, every file under MEDIA_ROOT (photos, attachments, imported workbooks): a
  database without its photos is not a restore;
* ``manifest.json``: the database kind, each file's SHA-256 and the row count of every table,
  counted in the same snapshot as the dump, so a restore can prove it brought back what was saved.

The folder is written under a hidden ``.partial`` name and renamed when complete: a backup that
crashed half-way never looks like one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.apps import apps
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper

FORMAT = 1
PREFIX = "zone_portal-"
MANIFEST = "manifest.json"
MEDIA_ARCHIVE = "media.tar.gz"
DATABASE_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
NAME_PATTERN = re.compile(rf"^{PREFIX}\d{{8}}-\d{{6}}(-\d+)?$")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


@dataclass
class Restored:
    path: Path
    rows: dict[str, int]
    media_files: int


# --- Helpers ------------------------------------------------------------------


def _vendor(using: str) -> str:
    vendor = connections[using].vendor
    if vendor not in DATABASE_FILES:
        raise BackupError(f"Backups support PostgreSQL and SQLite; this database is {vendor}.")
    return vendor


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tables(using: str) -> list[str]:
    """The tables of every installed model that exist in this database, sorted."""
    connection = connections[using]
    existing = set(connection.introspection.table_names())
    tables = {
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and not model._meta.swapped
    }
    return sorted(tables & existing)


def _count(
    cursor: CursorWrapper | sqlite3.Cursor, tables: list[str], quote: Callable[[str], str]
) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")
        counts[table] = cursor.fetchone()[0]
    return counts


def _outside_transaction(using: str) -> None:
    if connections[using].in_atomic_block:
        raise BackupError("Backup and restore cannot run inside a database transaction.")


def _pg_command(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found: install the PostgreSQL client tools (Debian: postgresql-client), "
            "of the server's major version or newer."
        )
    return path


def _pg_env(settings_dict: dict) -> dict[str, str]:
    """Connection settings for pg_dump and pg_restore as libpq variables, so no password is on a
    command line that ``ps`` shows."""
    env = dict(os.environ)
    for key, variable in [
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
    ]:
        if settings_dict.get(key):
            env[variable] = str(settings_dict[key])
    options = settings_dict.get("OPTIONS") or {}
    for option, variable in [
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
        ("passfile", "PGPASSFILE"),
        ("service", "PGSERVICE"),
    ]:
        if options.get(option):
            env[variable] = str(options[option])
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode:
        raise BackupError(f"{Path(args[0]).name} failed ({result.returncode}):\n{result.stderr.strip()}")
    return result


def _media_root() -> Path:
    return Path(settings.MEDIA_ROOT).resolve()


# --- Backup -------------------------------------------------------------------


def _new_folder(output_dir: Path) -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    name, suffix = f"{PREFIX}{stamp}", 1
    while (output_dir / name).exists():
        suffix += 1
        name = f"{PREFIX}{stamp}-{suffix}"
    return output_dir / name


def _dump_postgresql(using: str, target: Path) -> dict[str, int]:
    """pg_dump, and the row counts read in the very snapshot it dumps."""
    connection = connections[using]
    pg_dump = _pg_command("pg_dump")
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        rows = _count(cursor, _tables(using), connection.ops.quote_name)
        # The exporting transaction stays open until pg_dump has taken the snapshot (here: ended).
        _run(
            [
                pg_dump,
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={target}",
                f"--dbname={connection.settings_dict['NAME']}",
            ],
            _pg_env(connection.settings_dict),
        )
    return rows


def _dump_sqlite(using: str, target: Path) -> dict[str, int]:
    """SQLite's online backup API: a consistent copy while the server goes on writing."""
    connection = connections[using]
    connection.ensure_connection()
    tables = _tables(using)
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
        # Counted in the copy itself, so the figures are exactly what the file holds.
        cursor = copy.cursor()
        rows = _count(cursor, tables, connection.ops.quote_name)
        cursor.close()
    finally:
        copy.close()
    return rows


def _archive_media(root: Path, target: Path) -> int:
    count = 0
    with tarfile.open(target, "w:gz") as archive:
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    archive.add(path, arcname=path.relative_to(root).as_posix(), recursive=False)
                    count += 1
    return count


def create_backup(output_dir: Path, *, using: str = "default") -> Path:
    """Back up the database and MEDIA_ROOT into a new folder under ``output_dir``; return it."""
    vendor = _vendor(using)
    _outside_transaction(using)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    final = _new_folder(output_dir)
    partial = output_dir / f".{final.name}.partial"
    partial.mkdir()
    try:
        database_file = partial / DATABASE_FILES[vendor]
        dump = _dump_postgresql if vendor == "postgresql" else _dump_sqlite
        rows = dump(using, database_file)
        # After the database: a photo uploaded meanwhile is an extra file, never a missing one.
        media_files = _archive_media(_media_root(), partial / MEDIA_ARCHIVE)
        manifest = {
            "format": FORMAT,
            "created_at": timezone.localtime().isoformat(timespec="seconds"),
            "vendor": vendor,
            "database_name": str(connections[using].settings_dict["NAME"]),
            "files": {
                path.name: {"sha256": _sha256(path), "bytes": path.stat().st_size}
                for path in (database_file, partial / MEDIA_ARCHIVE)
            },
            "media_files": media_files,
            "rows": rows,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return final


def backups_in(output_dir: Path) -> list[Path]:
    """The complete backups in a folder, oldest first."""
    found = []
    for path in Path(output_dir).iterdir() if Path(output_dir).is_dir() else []:
        if path.is_dir() and NAME_PATTERN.match(path.name) and (path / MANIFEST).is_file():
            created = json.loads((path / MANIFEST).read_text()).get("created_at", "")
            found.append((created, path.name, path))
    return [path for *_, path in sorted(found)]


def prune(output_dir: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest backups in ``output_dir``; return what was deleted."""
    if keep < 1:
        raise BackupError("--keep must be at least 1.")
    old = backups_in(output_dir)[:-keep]
    for path in old:
        shutil.rmtree(path)
    return old


# --- Checking -----------------------------------------------------------------


def read_manifest(path: Path) -> dict:
    path = Path(path)
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{path} is not a backup: it has no {MANIFEST}.") from None
    except ValueError as error:
        raise BackupError(f"{path / MANIFEST} is not readable JSON: {error}") from None
    if manifest.get("format") != FORMAT or manifest.get("vendor") not in DATABASE_FILES:
        raise BackupError(f"{path} was written by an unknown version of the backup command.")
    return manifest


def verify_backup(path: Path) -> dict:
    """Check a backup without restoring it: checksums, the dump readable, the archive complete."""
    path = Path(path)
    manifest = read_manifest(path)
    expected = {DATABASE_FILES[manifest["vendor"]], MEDIA_ARCHIVE}
    if set(manifest["files"]) != expected:
        raise BackupError(
            f"{path}: the manifest lists {sorted(manifest['files'])}, expected {sorted(expected)}."
        )
    for name, facts in manifest["files"].items():
        file = path / name
        if not file.is_file():
            raise BackupError(f"{file} is missing.")
        if _sha256(file) != facts["sha256"]:
            raise BackupError(f"{file} does not match its checksum: the backup is damaged.")
    database = path / DATABASE_FILES[manifest["vendor"]]
    if manifest["vendor"] == "postgresql":
        _run([_pg_command("pg_restore"), "--list", str(database)], dict(os.environ))
    else:
        copy = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
        try:
            result = copy.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            copy.close()
        if result != "ok":
            raise BackupError(f"{database} fails SQLite's integrity check: {result}")
    with tarfile.open(path / MEDIA_ARCHIVE, "r:gz") as archive:
        files = sum(1 for member in archive if member.isfile())
    if files != manifest["media_files"]:
        raise BackupError(
            f"{path / MEDIA_ARCHIVE} holds {files} files, the manifest says {manifest['media_files']}."
        )
    return manifest


# --- Restore ------------------------------------------------------------------


def _restore_postgresql(using: str, database: Path) -> None:
    connection = connections[using]
    # Our own idle connection must not hold the tables pg_restore drops.
    connection.close()
    _run(
        [
            _pg_command("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            # Grants name roles that the target server may not have; the portal uses one role.
            "--no-privileges",
            # All or nothing: a failure half-way leaves the database as it was.
            "--single-transaction",
            f"--dbname={connection.settings_dict['NAME']}",
            str(database),
        ],
        _pg_env(connection.settings_dict),
    )


def _restore_sqlite(using: str, database: Path) -> None:
    connection = connections[using]
    connection.ensure_connection()
    source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    try:
        # The online backup API in reverse: the live database is overwritten page by page under a
        # lock, so other connections see either the old or the restored database.
        source.backup(connection.connection)
    finally:
        source.close()


def _stage_media(path: Path, root: Path) -> Path:
    """Unpack the archive next to MEDIA_ROOT (usually the same file system: moving in is a rename)."""
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}-restore-", dir=root.parent))
    try:
        with tarfile.open(path / MEDIA_ARCHIVE, "r:gz") as archive:
            # "data": no absolute paths, no "..", no links out, no device files.
            archive.extractall(staging, filter="data")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _swap_media(staging: Path, root: Path) -> None:
    """Make MEDIA_ROOT hold exactly the backup's files: files uploaded since then go too."""
    root.mkdir(parents=True, exist_ok=True)
    replaced = Path(tempfile.mkdtemp(prefix=f".{root.name}-replaced-", dir=root.parent))
    # shutil.move renames, or copies when MEDIA_ROOT is a mount point of its own.
    for entry in root.iterdir():
        shutil.move(entry, replaced / entry.name)
    for entry in staging.iterdir():
        shutil.move(entry, root / entry.name)
    staging.rmdir()
    shutil.rmtree(replaced)


def _check_media_root(root: Path) -> None:
    base = Path(settings.BASE_DIR).resolve()
    if root == Path(root.anchor) or root == base or root in base.parents:
        raise BackupError(f"MEDIA_ROOT is {root}: restoring would empty that folder; set MEDIA_ROOT first.")


def restore_backup(path: Path, *, using: str = "default") -> Restored:
    """Replace the database and MEDIA_ROOT with a backup's, then check every table's row count."""
    path = Path(path)
    vendor = _vendor(using)
    kind = read_manifest(path)["vendor"]
    if kind != vendor:
        raise BackupError(
            f"{path} is a {kind} backup and this database is {vendor}: "
            "restore it into a database of the same kind."
        )
    manifest = verify_backup(path)
    _outside_transaction(using)
    root = _media_root()
    _check_media_root(root)
    staging = _stage_media(path, root)
    try:
        database = path / DATABASE_FILES[vendor]
        (_restore_postgresql if vendor == "postgresql" else _restore_sqlite)(using, database)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_media(staging, root)
    connection = connections[using]
    with connection.cursor() as cursor:
        rows = _count(cursor, sorted(manifest["rows"]), connection.ops.quote_name)
    differ = {
        table: (manifest["rows"][table], rows[table])
        for table in rows
        if rows[table] != manifest["rows"][table]
    }
    if differ:
        listed = ", ".join(f"{table}: {saved} saved, {now} now" for table, (saved, now) in differ.items())
        raise BackupError(
            f"Restored, but row counts differ from the backup's (was the portal in use?): {listed}"
        )
    return Restored(path=path, rows=rows, media_files=manifest["media_files"])
