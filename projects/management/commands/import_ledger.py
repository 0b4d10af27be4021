"""python manage.py import_ledger FILE.xlsx --user USERNAME [--dry-run] [--year Y --month M]
[--confirm-erasures] [--confirm-warnings]"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.importing import BadFile
from core.imports import record_import
from projects.excel import importer


class Command(BaseCommand):
    help = (
        "Import a project ledger (重点项目台账): print the preview, and write every row in one "
        "transaction unless --dry-run or a row has an error (then exit with status 1)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, help="the user importing (their scope applies)")
        parser.add_argument("--dry-run", action="store_true", help="print the preview only")
        parser.add_argument("--year", type=int)
        parser.add_argument("--month", type=int)
        parser.add_argument(
            "--confirm-erasures",
            action="store_true",
            help="write the figures the preview lists as set to zero or cleared (without it, such a "
            "file is not imported)",
        )
        parser.add_argument(
            "--confirm-warnings",
            action="store_true",
            help="write the figures the preview lists as to check (cumulative above the total "
            "investment, above the year's plan, entered in yuan?); without it, such a file is not "
            "imported",
        )

    def handle(
        self,
        *args,
        file: Path,
        user: str,
        dry_run: bool,
        year,
        month,
        confirm_erasures: bool,
        confirm_warnings: bool,
        **options,
    ):
        if (year is None) != (month is None):
            raise CommandError("give --year and --month together")
        try:
            account = get_user_model().objects.get(username=user)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user {user!r}") from None
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror}") from None
        try:
            record, ledger = record_import(
                kind="project_ledger",
                data=data,
                file_name=file.name,
                user=account,
                origin="command",
                year=year,
                month=month,
                apply=not dry_run,
                confirm_erasures=confirm_erasures,
                confirm_warnings=confirm_warnings,
            )
        except (BadFile, PermissionDenied, ValidationError) as error:
            raise CommandError(_message(error)) from None
        for line in importer.preview_text(ledger):
            self.stdout.write(line)
        if ledger.errors:
            raise CommandError(f"{ledger.error_rows} 行有错误，未导入任何数据。")
        if dry_run:
            self.stdout.write("试运行（--dry-run）：未写入任何数据。")
        elif record is None:
            raise CommandError(_unconfirmed(ledger, confirm_erasures))
        else:
            self.stdout.write(self.style.SUCCESS(f"已导入（导入记录 #{record.pk}）。"))


def _unconfirmed(ledger, confirm_erasures: bool) -> str:
    if ledger.erasures and not confirm_erasures:
        return (
            f"{len(ledger.erasures)} 项数值将被清零或清空：核对后加 --confirm-erasures 再导入；"
            "未导入任何数据。"
        )
    return f"{len(ledger.held)} 项数值需要核实：核对后加 --confirm-warnings 再导入；未导入任何数据。"


def _message(error) -> str:
    if isinstance(error, ValidationError):
        return "；".join(error.messages)
    return str(error)
