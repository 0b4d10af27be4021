"""Rows for the tables ``load_demo`` and ``generate_data`` leave empty, in the OLD tree only.

The round trip runs this in the tree of test_round_trip.OLD_COMMIT, after ``generate_data``:

    python <old tree>/manage.py shell --no-imports -c \
        "import runpy; runpy.run_path('<this file>', run_name='__main__')"

so every table the migration has to carry over holds something: a comment, a photo, a ticket's
attachment, an API token, an import, a background job with its task result, a worker heartbeat,
sessions, the login log (axes), the admin site's log and a user's own permissions, both pointing at
content types of models the restructure moves. Unlike snapshot.py it imports the old code's modules
by their old paths: the old tree is a fixed commit. Its writes go through the history like the
services' (check_history stays clean).
"""

import datetime
import io

from axes.models import AccessAttempt, AccessAttemptExpiration, AccessFailureLog, AccessLog
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from enterprises.models import ProblemTicket, TicketAttachment
from projects.models import MonthlyProgress, ProgressPhoto, Project, ProjectComment
from zone_portal import history, jobs
from zone_portal.models import ApiToken, ImportRecord, Job, Park, User, WorkerHeartbeat


def png(size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (40, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def main():
    now = timezone.now()
    admin = User.objects.get(username="admin")
    staff = User.objects.get(username="staff")
    project = Project.objects.order_by("pk").first()
    report = MonthlyProgress.objects.filter(project=project).order_by("pk").first()
    ticket = ProblemTicket.objects.order_by("pk").first()
    park = Park.objects.order_by("pk").first()
    with transaction.atomic(), history.recording(origin=history.Origin.COMMAND):
        ProjectComment.objects.create(
            project=project, author=admin, text="请加快进度（往返测试）", by_leader=True
        )
        photo = ProgressPhoto(report=report, caption="往返测试", uploaded_by=staff)
        photo.image.save("round-trip.png", ContentFile(png()), save=False)
        photo.thumbnail.save("round-trip-thumb.png", ContentFile(png((32, 24))), save=False)
        photo.save()
        body = b"%PDF-1.4\n% round trip\n"
        attachment = TicketAttachment(
            ticket=ticket,
            name="回复函.pdf",
            content_type="application/pdf",
            size=len(body),
            uploaded_by=admin,
        )
        attachment.file.save("round-trip.pdf", ContentFile(body), save=False)
        attachment.save()
        ApiToken.objects.create(user=admin, expiry=datetime.timedelta(days=30), name="往返测试")
        record = ImportRecord(
            kind=ImportRecord.Kind.PROJECT_LEDGER, user=admin, file_name="台账.xlsx", year=now.year, month=1
        )
        record.file.save("round-trip.xlsx", ContentFile(b"PK\x03\x04 not really a workbook"), save=False)
        record.save()
        # A job queued for the worker: its Job row, and the task backend's row once this commits.
        jobs.start(owner=admin, kind=Job.Kind.PROJECT_LEDGER_EXPORT, parameters={"query": "group=park"})
        WorkerHeartbeat.objects.create(worker="round-trip@host:1", beat_at=now)
        for user in (admin, staff):
            session = SessionStore()
            session["_auth_user_id"] = str(user.pk)
            session.create()
        request = {"user_agent": "round-trip", "ip_address": "127.0.0.1", "http_accept": "*/*"}
        AccessLog.objects.create(
            **request, username="admin", path_info="/accounts/login/", session_hash="0" * 64
        )
        AccessFailureLog.objects.create(**request, username="nobody", path_info="/accounts/login/")
        attempt = AccessAttempt.objects.create(
            **request,
            username="nobody",
            path_info="/accounts/login/",
            get_data="",
            post_data="",
            failures_since_start=1,
        )
        AccessAttemptExpiration.objects.create(
            access_attempt=attempt, expires_at=now + datetime.timedelta(hours=1)
        )
        for model, obj, flag in [
            (Park, park, CHANGE),
            (User, staff, CHANGE),
            (ProblemTicket, ticket, ADDITION),
        ]:
            LogEntry.objects.create(
                user=admin,
                content_type=ContentType.objects.get_for_model(model),
                object_id=str(obj.pk),
                object_repr=str(obj)[:200],
                action_flag=flag,
                change_message="[]",
            )
        staff.user_permissions.add(
            Permission.objects.get(content_type__app_label="zone_portal", codename="view_park"),
            Permission.objects.get(content_type__app_label="enterprises", codename="view_problemticket"),
            Permission.objects.get(content_type__app_label="zone_portal", codename="view_job"),
        )


if __name__ == "__main__":
    main()
