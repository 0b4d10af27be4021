"""A snapshot of a Zone Portal database, for the migration round-trip test (test_round_trip.py).

Run in any tree of the project (the code before a restructure or after it) as

    ROUND_TRIP_SNAPSHOT=/tmp/out.json python <tree>/manage.py shell -c \
        "import runpy; runpy.run_path('<this file>', run_name='__main__')"

It imports no module of the project: only Django's APIs, the portal's URLs and its management
commands' names, so it reads the same way whichever app a model or a module lives in. It writes
one JSON file (keys sorted, so two snapshots compare as text too):

- ``rows``: every table's row count, except ``django_migrations``;
- ``content_types`` and ``permissions``: (app label, model) and (app label, codename) of each row;
- ``references``: the groups' and users' permissions and the admin site's log, by model name;
- ``summary``: /api/dashboard/summary/ as an administrator reads it: by default, for the year
  before, and with submitted reports counted;
- ``ledger``: the 重点项目台账 workbook of /projects/export/ (grouped by level, and by park), every
  sheet read back as rows of cell values (strings);
- ``check_history``: what ``manage.py check_history`` wrote, and the error it raised if any;
- ``schema``: every table's columns and constraints and indexes, as the database describes them;
- ``seconds``: how long each part took (not compared).
"""

import io
import json
import os
import re
import time

import openpyxl
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client

HOST = "127.0.0.1"
LEDGER_URLS = ["/projects/export/", "/projects/export/?group=park"]
SUMMARY_URL = "/api/dashboard/summary/"
# Tables whose rows legitimately change when the code changes: the record of applied migrations.
NOT_COUNTED = {"django_migrations"}


def quote(name):
    return connection.ops.quote_name(name)


def tables():
    with connection.cursor() as cursor:
        return sorted(connection.introspection.table_names(cursor))


def row_counts():
    counts = {}
    with connection.cursor() as cursor:
        for table in tables():
            if table in NOT_COUNTED:
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def content_types_and_permissions():
    """Moved models' content types are renamed, not duplicated: a migrated database keeps exactly
    the content types and permissions a fresh one gets."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT app_label, model FROM django_content_type")
        types = sorted(f"{app}.{model}" for app, model in cursor.fetchall())
        cursor.execute(
            "SELECT ct.app_label, p.codename FROM auth_permission p "
            "JOIN django_content_type ct ON ct.id = p.content_type_id"
        )
        permissions = sorted(f"{app}.{codename}" for app, codename in cursor.fetchall())
    return types, permissions


def references():
    """What points at content types and permissions, without their app labels (which a move
    changes): each group's and user's permissions, and the admin site's log. The same before and
    after a move: rows still point at the moved models, not at stale content types."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT g.name, ct.model, p.codename FROM auth_group_permissions gp "
            "JOIN auth_group g ON g.id = gp.group_id JOIN auth_permission p ON p.id = gp.permission_id "
            "JOIN django_content_type ct ON ct.id = p.content_type_id"
        )
        groups = sorted(f"{group}: {model}.{codename}" for group, model, codename in cursor.fetchall())
        user_table = get_user_model()._meta.db_table
        cursor.execute(
            f"SELECT u.username, ct.model, p.codename FROM {quote(user_table)} u "
            f"JOIN {quote(get_user_model().user_permissions.through._meta.db_table)} up ON up.user_id = u.id "
            "JOIN auth_permission p ON p.id = up.permission_id "
            "JOIN django_content_type ct ON ct.id = p.content_type_id"
        )
        users = sorted(f"{user}: {model}.{codename}" for user, model, codename in cursor.fetchall())
        cursor.execute(
            "SELECT ct.model, l.object_id, l.action_flag FROM django_admin_log l "
            "LEFT JOIN django_content_type ct ON ct.id = l.content_type_id"
        )
        log = sorted(f"{model}#{object_id} {flag}" for model, object_id, flag in cursor.fetchall())
    return {"group_permissions": groups, "user_permissions": users, "admin_log": log}


def reader():
    """An administrator (load_demo's ``admin``, the first superuser), else a 领导 leader: none is
    created, so the snapshot writes nothing."""
    users = get_user_model().objects.filter(is_active=True).order_by("pk")
    user = users.filter(is_superuser=True).first()
    if user is None:
        leaders = Group.objects.filter(name__in=["领导", "leader", "Leader"]).values_list("pk", flat=True)
        user = users.filter(groups__in=list(leaders)).first()
    return user


def client_for(user):
    client = Client(HTTP_HOST=HOST, SERVER_NAME=HOST, HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def summaries(client):
    def fetch(query):
        response = client.get(SUMMARY_URL + query, HTTP_ACCEPT="application/json")
        if response.status_code != 200:
            return {"status": response.status_code, "body": response.content.decode(errors="replace")[:2000]}
        return response.json()

    result = {"default": fetch("")}
    year = result["default"].get("year")
    if isinstance(year, int):
        result["previous_year"] = fetch(f"?year={year - 1}")
        result["include_submitted"] = fetch(f"?year={year}&include_submitted=1")
    return result


def cell_text(value):
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def ledgers(client):
    result = {}
    for url in LEDGER_URLS:
        response = client.get(url)
        kind = response.get("Content-Type", "")
        if response.status_code != 200 or "spreadsheet" not in kind:
            location = response.get("Location", "")
            result[url] = {"status": response.status_code, "content_type": kind, "location": location}
            continue
        body = b"".join(response.streaming_content) if response.streaming else response.content
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=False)
        result[url] = {
            "filename": response.get("Content-Disposition", ""),
            "sheets": {
                sheet.title: [
                    [cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)
                ]
                for sheet in book.worksheets
            },
        }
        book.close()
    return result


def check_history():
    out, err = io.StringIO(), io.StringIO()
    raised = None
    try:
        call_command("check_history", stdout=out, stderr=err)
    except BaseException as error:  # noqa: BLE001 - the snapshot records whatever it raised
        raised = f"{type(error).__name__}: {error}"
    return {"stdout": out.getvalue(), "stderr": err.getvalue(), "raised": raised}


# The schema ------------------------------------------------------------------------------------


def _squash(sql):
    return re.sub(r"\s+", " ", sql or "").strip()


def _split_top_level(body):
    """``a, b (c, d), e`` → ``["a", "b (c, d)", "e"]``: commas outside parentheses and quotes."""
    parts, depth, quote_char, current = [], 0, None, []
    for char in body:
        if quote_char:
            if char == quote_char:
                quote_char = None
        elif char in "\"'`[":
            quote_char = "]" if char == "[" else char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def _sqlite_table_sql(cursor, table):
    """SQLite keeps each table's CREATE TABLE text: its column definitions by column name (types,
    NOT NULL, inline UNIQUE, CHECK, REFERENCES … DEFERRABLE), and its table-level constraints.
    Column order is left out: a column added later comes last, in a fresh table where its model puts it."""
    cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
    row = cursor.fetchone()
    sql = _squash(row[0] if row else "")
    start, end = sql.find("("), sql.rfind(")")
    columns, table_constraints = {}, []
    for part in _split_top_level(sql[start + 1 : end]):
        match = re.match(r'^"([^"]+)"\s*(.*)$', part)
        if match:
            columns[match.group(1)] = match.group(2)
        else:
            table_constraints.append(part)
    return columns, sorted(table_constraints)


def _postgresql_columns(cursor, table):
    cursor.execute(
        """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
               COALESCE(c.collname, '')
        FROM pg_attribute a
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_collation c ON c.oid = a.attcollation AND a.attcollation <> 100
        WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped
        """,
        [quote(table)],
    )
    return {
        name: {
            "type": kind,
            "null": not not_null,
            "default": default,
            "identity": identity or "",
            "generated": generated or "",
            "collation": collation,
        }
        for name, kind, not_null, default, identity, generated, collation in cursor.fetchall()
    }


def _postgresql_definitions(cursor, table):
    """pg_get_constraintdef and pg_get_indexdef, by name: checks' expressions, foreign keys'
    actions and deferral, indexes' methods, expressions, INCLUDE columns and conditions."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass",
        [quote(table)],
    )
    definitions = dict(cursor.fetchall())
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass",
        [quote(table)],
    )
    for name, definition in cursor.fetchall():
        definitions.setdefault(name, definition)
    return definitions


def _sqlite_index_sql(cursor, table):
    cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s", [table])
    return {name: _squash(sql) for name, sql in cursor.fetchall() if sql}


def _kind(info):
    if info.get("primary_key"):
        return "pk"
    if info.get("foreign_key"):
        return "fk"
    if info.get("unique"):
        return "unique"
    if info.get("check"):
        return "check"
    if info.get("index"):
        return "index"
    return "other"


# Names SQLite's introspection makes up (it has none to give): numbered in the order of the table's
# text, so they say nothing of the schema; the constraint is known by its kind and columns instead.
INVENTED_NAME = re.compile(r"^(__unnamed_constraint_\d+__|fk_\d+|__primary__)$")


def table_schema(cursor, table):
    vendor = connection.vendor
    description = connection.introspection.get_table_description(cursor, table)
    columns = {}
    if vendor == "postgresql":
        precise = _postgresql_columns(cursor, table)
        definitions = _postgresql_definitions(cursor, table)
    elif vendor == "sqlite":
        column_sql, table_constraints = _sqlite_table_sql(cursor, table)
        precise = {name: {"definition": sql} for name, sql in column_sql.items()}
        definitions = _sqlite_index_sql(cursor, table)
    else:
        precise, definitions = {}, {}
    for info in description:
        try:
            field_type = connection.introspection.get_field_type(info.type_code, info)
        except KeyError:
            field_type = str(info.type_code)
        columns[info.name] = {
            "type": str(info.type_code).lower() if vendor == "sqlite" else field_type,
            "django_type": field_type,
            "null": bool(info.null_ok),
            **precise.get(info.name, {}),
        }
    constraints = []
    for name, info in connection.introspection.get_constraints(cursor, table).items():
        fk = info.get("foreign_key")
        constraints.append(
            {
                "name": None if vendor == "sqlite" and INVENTED_NAME.match(name) else name,
                "kind": _kind(info),
                "columns": [str(column) for column in (info.get("columns") or [])],
                "fk_target": list(fk) if fk else None,
                "unique": bool(info.get("unique")),
                "index": bool(info.get("index")),
                "type": info.get("type"),
                "orders": info.get("orders"),
                "definition": definitions.get(name),
            }
        )
    constraints.sort(key=lambda item: json.dumps(item, sort_keys=True))
    schema = {"columns": dict(sorted(columns.items())), "constraints": constraints}
    if vendor == "sqlite":
        schema["table_constraints"] = table_constraints
    return schema


def database_schema():
    with connection.cursor() as cursor:
        return {table: table_schema(cursor, table) for table in tables()}


def main():
    target = os.environ["ROUND_TRIP_SNAPSHOT"]
    seconds = {}
    snapshot = {"vendor": connection.vendor}

    def timed(key, function):
        started = time.perf_counter()
        snapshot[key] = function()
        seconds[key] = round(time.perf_counter() - started, 2)

    timed("rows", row_counts)
    timed("content_types", content_types_and_permissions)
    snapshot["content_types"], snapshot["permissions"] = snapshot["content_types"]
    timed("references", references)
    # Whatever the reads below write (the session of the login, a last login, a log of access) is
    # rolled back: the next snapshot of this database counts the rows this one counted.
    with transaction.atomic():
        user = reader()
        snapshot["reader"] = user.get_username() if user is not None else None
        if user is not None:
            client = client_for(user)
            timed("summary", lambda: summaries(client))
            timed("ledger", lambda: ledgers(client))
        else:
            snapshot["summary"] = snapshot["ledger"] = None
        timed("check_history", check_history)
        transaction.set_rollback(True)
    timed("schema", database_schema)
    snapshot["rows_after_reading"] = row_counts()
    snapshot["seconds"] = seconds
    with open(target, "w", encoding="utf-8") as file:
        json.dump(snapshot, file, ensure_ascii=False, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
