"""Settings for Zone Portal, read from the environment.

Development needs nothing set: DEBUG defaults to on and the database to a
SQLite file. Production sets DJANGO_ENV=production (DEBUG off, HTTPS behind a
proxy, secure cookies, HSTS), SECRET_KEY, ALLOWED_HOSTS and
DATABASE_URL=postgres://...
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# "production" turns DEBUG off whatever DEBUG says and switches on the HTTPS settings below.
PRODUCTION = os.environ.get("DJANGO_ENV", "development").strip().lower() == "production"
DEBUG = False if PRODUCTION else env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
if not ALLOWED_HOSTS and not DEBUG:
    # Django would otherwise start and answer every request with 400.
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must be set when DEBUG is off: the host names the portal is reached by, "
        "comma-separated (for example ALLOWED_HOSTS=portal.example.gov.cn)."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "csp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    # Lower to higher (docs/architecture.md): an app may import only the apps listed before it.
    "core",
    "reference",
    "enterprises",
    "projects",
    "problems",
    "dashboard",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside every middleware that reads the database, so it can run a read again whole.
    "core.resilience.RetryReadMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.security.PrivateCacheMiddleware",
    "core.security.SessionRefreshMiddleware",
    "core.security.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "core.history.HistoryOriginMiddleware",
    # Last, as axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "zone_portal.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.context_processors.portal",
            ],
        },
    },
]

WSGI_APPLICATION = "zone_portal.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        # A kept connection is tested before a request reuses it: one the database dropped meanwhile
        # (a restart, a fail-over) is replaced instead of failing the request (core.resilience).
        conn_health_checks=True,
    )
}
# The rollup index's INCLUDE columns (projects.MonthlyProgress) serve PostgreSQL, the production
# database; SQLite keeps the index without them. Its warning on every migrate and runserver would
# be the first thing `make run` shows a new user, and there is nothing for them to do about it.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- Cache, sessions, read replica, media storage (docs/deploy.md) -------------------------
# Each is a function of the environment, so tests can read what a given environment gives.


def cache_settings(environ) -> tuple[dict, str]:
    """CACHES and SESSION_ENGINE. With REDIS_URL the cache (API throttles, shared by every worker and
    server) and the sessions live in Redis; sessions are "cached_db", written through to the
    database too, so a Redis restart or flush logs no one out, and while Redis cannot be reached
    the portal works without it (core.cache_backends). Without it each process has its own
    memory cache (development and tests) and sessions stay in the database."""
    url = environ.get("REDIS_URL", "")
    if not url:
        return {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
        }, "django.contrib.sessions.backends.db"
    redis = {
        # Django's RedisCache, whose errors are misses: without Redis the portal works uncached.
        "BACKEND": "core.cache_backends.ForgivingRedisCache",
        "LOCATION": url,
        # Several portals (or a staging copy) may share one Redis.
        "KEY_PREFIX": environ.get("CACHE_KEY_PREFIX", "zone_portal"),
        "TIMEOUT": 300,
        # A Redis that does not answer fails the request within seconds instead of hanging a worker.
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
    return {"default": redis}, "django.contrib.sessions.backends.cached_db"


def replica_database(environ, conn_max_age: int) -> dict | None:
    """DATABASES["replica"] from DATABASE_REPLICA_URL (a PostgreSQL streaming replica), or None."""
    url = environ.get("DATABASE_REPLICA_URL", "")
    if not url:
        return None
    # Tests create no database for it: it reads the default one's test database.
    return {
        **dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True),
        "TEST": {"MIRROR": "default"},
    }


def media_storage(environ) -> dict:
    """STORAGES["default"], where uploads (photos, attachments, imported workbooks) are kept: the
    folder MEDIA_ROOT, or with MEDIA_S3_BUCKET a private bucket on S3-compatible storage. The
    portal serves both through its permission-checking views; the signed URLs S3Storage.url() gives
    expire after MEDIA_S3_URL_SECONDS and are for scripts, never put in pages."""
    bucket = environ.get("MEDIA_S3_BUCKET", "")
    if not bucket:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            # Unset: AWS itself; for MinIO, Ceph or a cloud's S3-compatible service, its URL.
            "endpoint_url": environ.get("MEDIA_S3_ENDPOINT_URL") or None,
            # Unset: boto3's own chain (AWS_* variables, ~/.aws, an instance role).
            "access_key": environ.get("MEDIA_S3_ACCESS_KEY_ID") or None,
            "secret_key": environ.get("MEDIA_S3_SECRET_ACCESS_KEY") or None,
            "region_name": environ.get("MEDIA_S3_REGION") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": int(environ.get("MEDIA_S3_URL_SECONDS", "300")),
            "signature_version": "s3v4",
            # Never replace an object that has the same name: Django picks a free one.
            "file_overwrite": False,
        },
    }


CACHES, SESSION_ENGINE = cache_settings(os.environ)
_replica = replica_database(os.environ, DATABASES["default"]["CONN_MAX_AGE"])
if _replica:
    DATABASES["replica"] = _replica
    DATABASE_ROUTERS = ["core.routers.ReplicaRouter"]
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        # PostgreSQL's JIT compiler spent 800 ms compiling the dashboard's 300 ms rollup query
        # (bench/RESULTS.md); short web queries never repay it.
        _database.setdefault("OPTIONS", {})["options"] = "-c jit=off"

# Errors (a 500's traceback) and warnings go to stderr, which gunicorn and systemd's journal keep.
# Django's own default logs them to the console only while DEBUG is on.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    # In place of Django's console-while-debugging and mail-the-admins handlers.
    "loggers": {"django": {"handlers": ["stderr"], "level": "WARNING", "propagate": False}},
}

AUTH_USER_MODEL = "core.User"

AUTH_PASSWORD_VALIDATORS = [
    # The display name too: people pick their own name, in pinyin or in characters.
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ["username", "display_name", "first_name", "last_name", "email"]},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "core.validators.LettersAndDigitsValidator"},
    # Last: what the rules above let through can still be guessable ("unit2unit2x1").
    {"NAME": "core.validators.StrengthValidator", "OPTIONS": {"min_score": 3}},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": media_storage(os.environ),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# History is the record of what happened: the admin shows it but never rolls an object back to it.
SIMPLE_HISTORY_REVERT_DISABLED = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- HTTPS, headers and logins (README: "Production settings") ---------------------------

# DJANGO_BEHIND_HTTPS=0 is for a production server tried over plain HTTP on loopback (make
# serve-prod, the load test): no redirect to HTTPS, cookies not secure-only, no HSTS. Never on a
# server others reach.
BEHIND_HTTPS = PRODUCTION and env_bool("DJANGO_BEHIND_HTTPS", True)
if BEHIND_HTTPS:
    # Behind an HTTPS proxy, which must set X-Forwarded-Proto itself (overwriting what a
    # client sent), or a client could claim a plain-HTTP request was HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    # Both off by default: they reach beyond the portal's own host name. includeSubDomains makes
    # browsers refuse plain HTTP on every subdomain of the portal's name for a year; preload, once
    # the domain is submitted to the browsers' list, does so before any first visit and takes
    # months to undo. Turn them on (docs/deploy.md, "HTTPS and HSTS") only when every subdomain
    # serves HTTPS and whoever runs the domain agrees.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    # check --deploy warns while they are off: off is the decision above, not an oversight.
    SILENCED_SYSTEM_CHECKS += [
        *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
        *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
    ]
# A load balancer probes the health check over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Proxies in front of the portal that append to X-Forwarded-For: login lockouts and API
# throttles count the address the outermost one saw (core.security.client_ip). 0 by
# default, production too: with no proxy counted a forged X-Forwarded-For is ignored, whereas
# counting one that is not there would believe whatever a caller reaching gunicorn directly wrote.
# Behind nginx (docs/deploy.md), which is then the only way in, set 1.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# No inline scripts anywhere (static/js holds them all). Styles need 'unsafe-inline', as
# tests/browser/test_csp.py shows: ECharts writes its tooltips as HTML with style attributes, Swagger
# UI and the browsable API have <style> blocks, and ReDoc injects its styles (without them it does
# not render). A style cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

# Failed logins (the log-in page and the admin's) are counted per user name and address together:
# at the limit that name is locked at that address for the cool-off, so failures from elsewhere
# cannot lock a user out. An address failing under user names no account has is refused every
# login once it reaches LOGIN_UNKNOWN_USER_LIMIT (core.security.LoginLockoutBackend). A
# correct login clears its name's count at its address.
AUTHENTICATION_BACKENDS = [
    "core.security.LoginLockoutBackend",  # first: a locked-out login is refused before any check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
LOGIN_UNKNOWN_USER_LIMIT = int(os.environ.get("LOGIN_UNKNOWN_USER_LIMIT", "10"))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "core.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "core.security.client_ip"

# Signed-in sessions end after this long without a request. core.security's middleware
# renews the session at most once a minute instead of SESSION_SAVE_EVERY_REQUEST, which would
# write the session row on every request.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_MINUTES", "120")) * 60

ZONE_NAME = os.environ.get("ZONE_NAME", "周口经济开发区")

# Shown in the admin header; the zone's own name comes from the environment.
ADMIN_SITE_HEADER = _("Zone Portal")
MAX_PHOTO_BYTES = int(os.environ.get("MAX_PHOTO_MB", "10")) * 1_048_576
# Photos: the most pixels one may have, read from its header before it is decoded (a 500 KB PNG
# can hold 13000 × 13000 pixels, 2 GB once decoded), and the longest side it is stored at.
IMAGE_MAX_PIXELS = int(os.environ.get("IMAGE_MAX_PIXELS", str(50_000_000)))
PHOTO_MAX_SIDE = int(os.environ.get("PHOTO_MAX_SIDE", "2560"))
MAX_ATTACHMENT_BYTES = int(os.environ.get("MAX_ATTACHMENT_MB", "20")) * 1_048_576
# How long a dashboard figure may be served from the cache (core/caching.py); it is recomputed
# sooner, as soon as a project, plan or report changes. 0 turns the cache off.
FIGURES_CACHE_SECONDS = int(os.environ.get("FIGURES_CACHE_SECONDS", "300"))
# How long a request waits for another one computing the same figures (core.caching); 0: never.
FIGURES_COMPUTE_WAIT = int(os.environ.get("FIGURES_COMPUTE_WAIT", "20"))
# A month's progress reports are due by this day of the following month (home page, reminders).
MONTHLY_REPORT_DUE_DAY = int(os.environ.get("MONTHLY_REPORT_DUE_DAY", "5"))
if not 1 <= MONTHLY_REPORT_DUE_DAY <= 28:
    raise ImproperlyConfigured("MONTHLY_REPORT_DUE_DAY must be a day from 1 to 28.")
# Four eyes on the official figures: a report is approved by someone other than its submitter, even
# when one person holds both the staff and the reviewer role. 0 only where a single person does both.
PROGRESS_APPROVER_NOT_SUBMITTER = env_bool("PROGRESS_APPROVER_NOT_SUBMITTER", True)

# Excel: the most rows one synchronous download writes, and the largest workbook an import reads.
EXCEL_EXPORT_MAX_ROWS = int(os.environ.get("EXCEL_EXPORT_MAX_ROWS", "100000"))
MAX_IMPORT_BYTES = int(os.environ.get("MAX_IMPORT_MB", "10")) * 1_048_576
# What an imported workbook may hold, counted from its real content as a stream before any reader
# sizes a grid (core/importing.py): the last row and column holding a value, the rows ×
# columns a sheet spans, the texts it shares, and its parts' bytes once unzipped. Beyond them the
# file is refused with the reason; a 5 KB file can declare a sheet of 17 billion cells.
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "100000"))
IMPORT_MAX_COLUMNS = int(os.environ.get("IMPORT_MAX_COLUMNS", "256"))
IMPORT_MAX_CELLS = int(os.environ.get("IMPORT_MAX_CELLS", "3000000"))
IMPORT_MAX_UNPACKED_BYTES = int(os.environ.get("IMPORT_MAX_UNPACKED_MB", "256")) * 1_048_576

# The "13710" clock of problem tickets (see problems/deadlines.py): days to
# assign, to report first progress, to resolve, months for a major problem, and
# days for the office to review a resolution (a convention, not in "13710").
PROBLEM_DEADLINES = {"assign": 1, "report": 3, "resolve": 7, "major_months": 1, "review": 1}
# "calendar" days, or Chinese "working" days (holidays and make-up days from chinese-calendar).
PROBLEM_DAY_COUNTING = os.environ.get("PROBLEM_DAY_COUNTING", "calendar")

# django-filter: the first choice of a filter's select, whose empty value applies no filter
# (core.forms.ANY_CHOICE_LABEL, the same words, for the other filter forms).
FILTERS_EMPTY_CHOICE_LABEL = _("All")

# The API (/api/): session login for the browser, tokens (knox, stored hashed) for scripts.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.HasZoneRole"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["core.api.base.FilterSetBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.base.Pagination",
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.base.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_ANON_RATE", "30/minute"),
        "user": os.environ.get("API_USER_RATE", "1200/minute"),
    },
    "COERCE_DECIMAL_TO_STRING": True,
    # The anonymous throttle counts the caller's address, not the proxy's (see TRUSTED_PROXY_COUNT).
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    # ISO 8601 with the zone's offset (+08:00): DRF renders aware times in the current time zone.
    "DATETIME_FORMAT": "iso-8601",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
API_MAX_PAGE_SIZE = 500

# Tokens: hashed in the database, named by their owner, revocable; the owner picks the lifetime.
KNOX_TOKEN_MODEL = "core.ApiToken"
# knox's own migrations would create its unused AuthToken table (swapped out for ApiToken), whose
# foreign key to users stops PostgreSQL from truncating the user table between tests.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": None,
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_PREFIX": "zp_",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Zone Portal API",
    "DESCRIPTION": (
        "The registry, figures and workflows of the development zone portal. "
        "Amounts are in 万元 as decimal strings; dates are ISO 8601; times carry the +08:00 offset. "
        "Authenticate with a session (the browser) or `Authorization: Token <token>` "
        "(create tokens on the portal's API tokens page). "
        "Changes to versioned records send the `version` they read (or `If-Match` with the ETag): "
        "a stale version is refused with 409 (412 for If-Match). "
        "Messages are in Chinese unless `Accept-Language: en` is sent."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["core.api.permissions.HasZoneRole"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No deep links: with them each operation's path is a link inside the button that opens it, a
    # control within a control that keyboards and screen readers cannot use (axe, issue 22).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets used by several fields get one name each.
    "ENUM_NAME_OVERRIDES": {
        "Stage": "projects.choices.Stage",
        "TicketStatus": "problems.choices.TicketStatus",
        "ProblemLevel": "problems.choices.ProblemLevel",
        # Projects' level keeps the name it had before problems' "level" joined the schema.
        "LevelEnum": "projects.choices.Level",
        "ClosureGrade": "problems.choices.ClosureGrade",
        "ProgressStatus": "projects.choices.ProgressStatus",
        "MilestoneStatus": "projects.choices.MilestoneStatus",
        "MilestoneKind": "projects.choices.MilestoneKind",
        "PlanCategory": "projects.choices.PlanCategory",
        # Problems' category would otherwise collide with plans' (both fields are "category").
        "ProblemCategory": "problems.choices.ProblemCategory",
        "BatchRole": "projects.choices.BatchRole",
    },
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums"],
    "SCHEMA_PATH_PREFIX": "/api/",
}

# --- Background tasks (README: "Background tasks") -----------------------------------------
# Long work (large Excel exports and imports, the data generator) runs through django-tasks, the
# backport of Django 6's django.tasks. TASKS_BACKEND=database (the default) queues in the portal's
# own database and needs one `manage.py db_worker` process; TASKS_BACKEND=rq queues in Redis
# (REDIS_URL) for `manage.py rqworker default --job-class django_tasks_rq.Job` processes on
# any number of machines.
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "database").strip().lower()
if TASKS_BACKEND == "rq":
    if not os.environ.get("REDIS_URL"):
        raise ImproperlyConfigured("TASKS_BACKEND=rq needs REDIS_URL (redis://host:6379/0).")
    INSTALLED_APPS.append("django_rq")
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {
        "default": {
            "URL": os.environ["REDIS_URL"],
            # RQ stops a job after 180 seconds unless told otherwise; a 100,000-row export takes longer.
            "DEFAULT_TIMEOUT": int(os.environ.get("JOB_TIMEOUT_SECONDS", "3600")),
        }
    }
elif TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
else:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be database or rq, not {TASKS_BACKEND!r}.")
# Above this many rows an Excel download is written in the background (up to EXCEL_EXPORT_MAX_ROWS).
EXCEL_SYNC_EXPORT_ROWS = int(os.environ.get("EXCEL_SYNC_EXPORT_ROWS", "20000"))
# The monthly progress grid shows this many projects a page: a unit's thousands of projects on one
# page took 16 s and 3.6 MB to draw (issue 21), and a browser's form that size is slow to fill.
GRID_PAGE_SIZE = 50
# Above this many rows an Excel import is checked and applied in the background.
IMPORT_SYNC_ROWS = int(os.environ.get("IMPORT_SYNC_ROWS", "2000"))
# Finished jobs and their files are deleted after this many days (manage.py purge_jobs).
JOB_RESULT_DAYS = int(os.environ.get("JOB_RESULT_DAYS", "7"))
# A running job and the task worker write a heartbeat this often; a running job with none for
# JOB_STALE_SECONDS lost its worker (killed, out of memory, machine restarted) and is marked failed.
JOB_HEARTBEAT_SECONDS = float(os.environ.get("JOB_HEARTBEAT_SECONDS", "10"))
JOB_STALE_SECONDS = float(os.environ.get("JOB_STALE_SECONDS", "120"))
