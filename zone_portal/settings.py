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
    "zone_portal",
    "enterprises",
    "projects",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "zone_portal.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "zone_portal.security.SessionRefreshMiddleware",
    "zone_portal.security.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "zone_portal.history.HistoryOriginMiddleware",
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
                "zone_portal.context_processors.portal",
            ],
        },
    },
]

WSGI_APPLICATION = "zone_portal.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}

AUTH_USER_MODEL = "zone_portal.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "zone_portal.validators.LettersAndDigitsValidator"},
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
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
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

if PRODUCTION:
    # Behind an HTTPS proxy, which must set X-Forwarded-Proto itself (overwriting what a
    # client sent), or a client could claim a plain-HTTP request was HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    # Only a request to the browsers' preload list acts on this flag; 0 leaves it out.
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# A load balancer probes the health check over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Proxies in front of the portal that append to X-Forwarded-For: login lockouts and API
# throttles count the address the outermost one saw (zone_portal.security.client_ip).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "1" if PRODUCTION else "0"))

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

# Failed logins (the log-in page and the admin's) are counted per user name and per address;
# at the limit both are locked for the cool-off. A correct login clears its user's and address's
# count, so colleagues behind one address are not locked out by each other's typos.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: a locked-out login is refused before any check
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username"], ["ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "zone_portal.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "zone_portal.security.client_ip"

# Signed-in sessions end after this long without a request. zone_portal.security's middleware
# renews the session at most once a minute instead of SESSION_SAVE_EVERY_REQUEST, which would
# write the session row on every request.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_MINUTES", "120")) * 60

ZONE_NAME = os.environ.get("ZONE_NAME", "周口经济开发区")

# Shown in the admin header; the zone's own name comes from the environment.
ADMIN_SITE_HEADER = _("Zone Portal")
MAX_PHOTO_BYTES = int(os.environ.get("MAX_PHOTO_MB", "10")) * 1_048_576
MAX_ATTACHMENT_BYTES = int(os.environ.get("MAX_ATTACHMENT_MB", "20")) * 1_048_576
# Excel: the most rows one synchronous download writes, and the largest workbook an import reads.
EXCEL_EXPORT_MAX_ROWS = int(os.environ.get("EXCEL_EXPORT_MAX_ROWS", "100000"))
MAX_IMPORT_BYTES = int(os.environ.get("MAX_IMPORT_MB", "10")) * 1_048_576

# The "13710" clock of problem tickets (see enterprises/deadlines.py): days to
# assign, to report first progress, to resolve, months for a major problem, and
# days for the office to review a resolution (a convention, not in "13710").
PROBLEM_DEADLINES = {"assign": 1, "report": 3, "resolve": 7, "major_months": 1, "review": 1}
# "calendar" days, or Chinese "working" days (holidays and make-up days from chinese-calendar).
PROBLEM_DAY_COUNTING = os.environ.get("PROBLEM_DAY_COUNTING", "calendar")

# The API (/api/): session login for the browser, tokens (knox, stored hashed) for scripts.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "zone_portal.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["zone_portal.api.permissions.HasZoneRole"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["zone_portal.api.base.FilterSetBackend"],
    "DEFAULT_PAGINATION_CLASS": "zone_portal.api.base.Pagination",
    "DEFAULT_SCHEMA_CLASS": "zone_portal.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "zone_portal.api.base.exception_handler",
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
KNOX_TOKEN_MODEL = "zone_portal.ApiToken"
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
    "SERVE_PERMISSIONS": ["zone_portal.api.permissions.HasZoneRole"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets used by several fields get one name each.
    "ENUM_NAME_OVERRIDES": {
        "Stage": "projects.choices.Stage",
        "TicketStatus": "enterprises.choices.TicketStatus",
        "ProblemLevel": "enterprises.choices.ProblemLevel",
        # Projects' level keeps the name it had before problems' "level" joined the schema.
        "LevelEnum": "projects.choices.Level",
        "ClosureGrade": "enterprises.choices.ClosureGrade",
        "ProgressStatus": "projects.choices.ProgressStatus",
        "MilestoneStatus": "projects.choices.MilestoneStatus",
        "MilestoneKind": "projects.choices.MilestoneKind",
        "PlanCategory": "projects.choices.PlanCategory",
        # Problems' category would otherwise collide with plans' (both fields are "category").
        "ProblemCategory": "enterprises.choices.ProblemCategory",
        "BatchRole": "projects.choices.BatchRole",
    },
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums"],
    "SCHEMA_PATH_PREFIX": "/api/",
}
