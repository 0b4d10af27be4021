"""The data generator as a background job (``manage.py generate_data --background``)."""

from django.utils.translation import gettext_lazy as _
from django_tasks import task

from core import jobs
from core.models import Job
from core.tasks import run
from demo import generator

GENERATE_DATA = "generate_data"  # the kind of job


@task()
def generate_data_task(job_id: int) -> None:
    run(job_id, _generate_data)


def _generate_data(job: Job, progress: jobs.Progress) -> None:
    params = job.parameters
    sizes = {key: params[key] for key in ("projects", "enterprises", "years", "tickets") if key in params}
    try:
        profile = generator.Profile(**sizes)
    except (TypeError, ValueError) as error:
        raise jobs.JobFailed(str(error)) from None
    try:
        generator.generate(
            profile, seed=params.get("seed", 1), append=bool(params.get("append")), progress=progress
        )
    except generator.GenerationRefused as error:
        raise jobs.JobFailed(str(error)) from None
    jobs.finish(job)


jobs.register_task(GENERATE_DATA, _("data generation"), generate_data_task)
