"""Audit: every tracked record's current values match its last history row (nothing was written
behind the history's back).

It streams: each table and its history are read a chunk of records at a time
(``core.history.CHECK_CHUNK_SIZE``) and each problem is written as it is found, so the memory it
needs does not grow with the data."""

from django.core.management.base import BaseCommand, CommandError

from core.history import iter_unrecorded_changes


class Command(BaseCommand):
    help = "Lists records changed, created or deleted without a history row; fails if there are any."

    def handle(self, *args, **options):
        count = 0
        for problem in iter_unrecorded_changes():
            self.stdout.write(problem)
            count += 1
        if count:
            raise CommandError(f"{count} records differ from their history.")
        self.stdout.write("The history matches every record.")
