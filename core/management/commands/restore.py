"""``manage.py restore PATH --yes``: put a backup's database and uploaded files back.

It overwrites the database of DATABASE_URL and everything under MEDIA_ROOT, so it refuses to
run without --yes. ``--check`` only verifies a backup and changes nothing.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core import backups


class Command(BaseCommand):
    help = "Restore a backup made by `manage.py backup` (overwrites the database and MEDIA_ROOT)."

    def add_arguments(self, parser):
        parser.add_argument(
            "path", type=Path, help="The backup folder, e.g. backups/zone_portal-20261130-020000."
        )
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Confirm that the current database and uploaded files may be overwritten.",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only verify the backup (checksums, dump and archive readable); change nothing.",
        )
        parser.add_argument("--database", default="default", help="The database alias (default: default).")

    def handle(self, *args, path, yes, check, database, **options):
        try:
            if check:
                manifest = backups.verify_backup(path)
                self.stdout.write(
                    self.style.SUCCESS(
                        f"{path} is sound: {manifest['vendor']} backup of {manifest['created_at']}, "
                        f"{sum(manifest['rows'].values())} rows, {manifest['media_files']} media files."
                    )
                )
                return
            if not yes:
                raise CommandError(
                    "Restoring overwrites the whole database and every uploaded file. Nothing was changed. "
                    "Run again with --yes (make restore BACKUP=... CONFIRM=yes) to go ahead."
                )
            restored = backups.restore_backup(path, using=database)
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored {path}: {sum(restored.rows.values())} rows in {len(restored.rows)} tables "
                f"(every count as in the backup), {restored.media_files} media files."
            )
        )
