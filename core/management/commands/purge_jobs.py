"""Delete finished background jobs older than JOB_RESULT_DAYS, with their files (run it daily)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from core import jobs


class Command(BaseCommand):
    help = "Delete background jobs finished more than JOB_RESULT_DAYS days ago, with their result files."

    def add_arguments(self, parser):
        days_help = f"Keep jobs finished in the last N days (default: {settings.JOB_RESULT_DAYS})."
        parser.add_argument("--days", type=int, help=days_help)

    def handle(self, *, days, verbosity, **options):
        count = jobs.purge(days=days)
        if verbosity:
            self.stdout.write(f"Deleted {count} finished background jobs and their files.")
