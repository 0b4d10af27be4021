"""Generate a realistic data set quickly (demo.generator): a zone, a province, or any size.

manage.py generate_data --profile zone --seed 1
manage.py generate_data --profile province --seed 1          # 50,000 projects, ~3M reports
manage.py generate_data --projects 30 --enterprises 60 --years 2 --tickets 80
manage.py generate_data --profile province --background --owner admin   # by the task worker
"""

import dataclasses

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm

from core import jobs
from core.roles import is_admin
from demo import generator
from demo.tasks import GENERATE_DATA


class Command(BaseCommand):
    help = (
        "Fill an empty database with generated parks, units, users, enterprises, projects, plans, "
        "monthly progress, approval procedures, batches, visits and problem tickets (with history)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--profile",
            choices=sorted(generator.PROFILES),
            help="Preset sizes: zone (500 projects, 2 years) or province (50,000 projects, 5 years). "
            "The options below override it.",
        )
        parser.add_argument("--projects", type=int)
        parser.add_argument("--enterprises", type=int)
        parser.add_argument("--years", type=int, help="Years of monthly progress, ending with this month.")
        parser.add_argument("--tickets", type=int, help="Problem tickets (万人助万企).")
        parser.add_argument(
            "--seed", type=int, default=1, help="The same seed gives the same data (on the same day)."
        )
        parser.add_argument(
            "--append",
            action="store_true",
            help="Add beside existing projects (new accounts are named gen2_…, gen3_…).",
        )
        parser.add_argument(
            "--background",
            action="store_true",
            help="Queue it for the background-task worker instead; --owner follows it on /jobs/.",
        )
        parser.add_argument("--owner", help="With --background: the administrator whose job it is.")

    def handle(self, *args, profile=None, seed=1, append=False, verbosity=1, **options):
        sizes = dataclasses.asdict(generator.PROFILES[profile or "zone"])
        given = {name: options[name] for name in sizes if options.get(name) is not None}
        if profile is None and len(given) < len(sizes):
            missing = ", ".join(f"--{name}" for name in sizes if name not in given)
            raise CommandError(f"Choose a --profile or give all of the sizes (missing {missing}).")
        try:
            chosen = generator.Profile(**{**sizes, **given})
        except ValueError as error:
            raise CommandError(str(error)) from error
        if options.get("background"):
            return self.queue(chosen, seed=seed, append=append, owner=options.get("owner"))
        bar = _Bar(enabled=verbosity > 0)
        try:
            result = generator.generate(
                chosen,
                seed=seed,
                append=append,
                progress=bar.update,
                stdout=self.stdout if verbosity > 1 else None,
            )
        except generator.GenerationRefused as error:
            raise CommandError(str(error)) from error
        finally:
            bar.close()
        if verbosity > 0:
            self.report(chosen, result)

    def queue(self, profile, *, seed: int, append: bool, owner: str | None) -> None:
        user = get_user_model().objects.filter(username=owner or "", is_active=True).first()
        if user is None or not is_admin(user):
            raise CommandError("--background needs --owner, the user name of an active administrator.")
        with transaction.atomic():
            job = jobs.start(
                owner=user,
                kind=GENERATE_DATA,
                parameters={**dataclasses.asdict(profile), "seed": seed, "append": append},
            )
        self.stdout.write(
            f"Queued as job {job.pk}: the task worker (manage.py db_worker) runs it; "
            f"{owner} follows its progress at {job.get_absolute_url()}"
        )

    def report(self, profile, result):
        write = self.stdout.write
        write(self.style.SUCCESS(f"Generated in {result.seconds:.0f} s ({_duration(result.seconds)})."))
        write(
            f"Profile: {profile.projects} projects, {profile.enterprises} enterprises, "
            f"{profile.years} years ({result.first_year}-01 to {result.last_period[0]}-"
            f"{result.last_period[1]:02d}), {profile.tickets} tickets."
        )
        write("")
        width = max(len(table) for table in result.counts)
        write(f"  {'table':<{width}} {'rows':>10}")
        write(f"  {'-' * width} {'-' * 10}")
        for table, count in sorted(result.counts.items()):
            write(f"  {table:<{width}} {count:>10,}")
        write(f"  {'total':<{width}} {sum(result.counts.values()):>10,}")
        write("")
        write("Log in as the generated administrator (the other generated accounts cannot log in):")
        write(f"  username {result.admin_username}")
        write(f"  password {result.admin_password}")


class _Bar:
    """One tqdm bar per step of the generator, on stderr."""

    def __init__(self, *, enabled: bool):
        self.enabled = enabled
        self.bar = None
        self.step = None

    def update(self, step: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if step != self.step:
            self.close()
            self.step = step
            self.bar = tqdm(total=total, desc=step, dynamic_ncols=True)
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes} min {seconds:02d} s"
