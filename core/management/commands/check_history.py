"""Audit: every tracked record's current values match its last history row (nothing was written
behind the history's back)."""

from django.core.management.base import BaseCommand, CommandError

from core.history import unrecorded_changes


class Command(BaseCommand):
    help = "Lists records changed, created or deleted without a history row; fails if there are any."

    def handle(self, *args, **options):
        problems = unrecorded_changes()
        for problem in problems:
            self.stdout.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} records differ from their history.")
        self.stdout.write("The history matches every record.")
