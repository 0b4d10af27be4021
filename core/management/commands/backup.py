"""``manage.py backup``: the database of DATABASE_URL and the uploaded files, into backups/.

See core/backups.py for what a backup holds and docs/backup.md for the procedure.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core import backups


class Command(BaseCommand):
    help = "Back up the database (PostgreSQL or SQLite) and MEDIA_ROOT into a new timestamped folder."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output-dir",
            type=Path,
            default=Path(settings.BASE_DIR) / "backups",
            help="Where the backup folder is made (default: backups/ in the project).",
        )
        parser.add_argument(
            "--keep",
            type=int,
            default=None,
            help="Afterwards delete all but the KEEP newest backups in --output-dir.",
        )
        parser.add_argument("--database", default="default", help="The database alias (default: default).")

    def handle(self, *args, output_dir, keep, database, **options):
        if keep is not None and keep < 1:
            raise CommandError("--keep must be at least 1.")
        try:
            path = backups.create_backup(output_dir, using=database)
            manifest = backups.read_manifest(path)
            removed = backups.prune(output_dir, keep) if keep else []
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        size = sum(facts["bytes"] for facts in manifest["files"].values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {path}: {manifest['vendor']} database, "
                f"{sum(manifest['rows'].values())} rows in {len(manifest['rows'])} tables, "
                f"{manifest['media_files']} media files, {size / 1_048_576:.1f} MB."
            )
        )
        for old in removed:
            self.stdout.write(f"Deleted the old backup {old}")
