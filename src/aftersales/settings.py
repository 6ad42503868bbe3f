"""One settings module; every knob is an AFTERSALES_* environment variable with a safe default."""

import os
import secrets
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw not in ("true", "false"):
        raise ImproperlyConfigured(f"{name} must be 'true' or 'false', not {raw!r}")
    return raw == "true"


def env_secret(name: str, default: str | None = None) -> str | None:
    """A secret from NAME, or from the file named by NAME_FILE."""
    if os.environ.get(f"{name}_FILE"):
        return Path(os.environ[f"{name}_FILE"]).read_text().strip()
    return os.environ.get(name, default)


DATA_DIR = Path(os.environ.get("AFTERSALES_DATA_DIR", Path.cwd() / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key = env_secret("AFTERSALES_SECRET_KEY")
    if key:
        return key
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("AFTERSALES_DEBUG", False)
ALLOWED_HOSTS = os.environ.get("AFTERSALES_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("AFTERSALES_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "auditlog",
    "axes",
    "django_otp",  # second factor for staff (accounts/otp.py)
    "django_otp.plugins.otp_totp",
    "huey.contrib.djhuey",
    "aftersales.core",
    "aftersales.accounts",
    "aftersales.customers",
    "aftersales.assets",
    "aftersales.contracts",
    "aftersales.notify",
    "aftersales.service",
    "aftersales.intake",
    "aftersales.repairs",
    "aftersales.visits",
    "aftersales.inspections",  # issue 23: INS-1, INS-3
    "aftersales.training",  # issue 23 §9: TRN-1, TRN-2
    "aftersales.parts",
    "aftersales.billing",
    "aftersales.backups",
    "aftersales.printing",  # issue 24 §3: RPT-2, the printable forms
    "aftersales.proof",  # issue 24 §4: the monthly proof-of-service report
    "aftersales.reports",
    "aftersales.journal",  # issue 25 §2: daily service logs (LOG-1)
    "aftersales.documents",  # issue 25 §3: versioned project documents (LOG-2)
    "aftersales.changes",  # issue 25 §4: change notices (LOG-3)
    "aftersales.proposals",  # issue 25 §4-§5: hidden-danger reports, proposals (LOG-3, LOG-4)
    "aftersales.knowledge",  # issue 25 §6: knowledge base (SRQ-9)
    "aftersales.replies",  # issue 25 §7: canned replies for the desk
    "aftersales.history",  # issue 25 §1: the customer's history (LOG-1)
    "aftersales.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "aftersales.core.sqlite_writers.WriterHandOverMiddleware",  # before anything that writes (sessions)
    "aftersales.core.busy.DatabaseBusyMiddleware",  # a database that stays locked: 503 with Retry-After
    "django.contrib.sessions.middleware.SessionMiddleware",
    "aftersales.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): a second factor was given in this session
    "aftersales.accounts.otp.SecondFactorMiddleware",  # an unverified session that owes a code reaches only that page
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "aftersales.core.middleware.RequestContextMiddleware",  # after auditlog's: reads the correlation id it sets
    "aftersales.core.idempotency.IdempotencyKeyMiddleware",  # the view and its stored answer in one transaction
    "axes.middleware.AxesMiddleware",  # last (axes' docs): turns a locked login page's answer into a 429
]

ROOT_URLCONF = "aftersales.urls"
WSGI_APPLICATION = "aftersales.wsgi.application"
AFTERSALES_ACCESS_LOG = env_bool("AFTERSALES_ACCESS_LOG", False)  # `aftersales serve`: gunicorn's access log

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "aftersales.core.context_processors.navigation",
            ],
        },
    },
    {
        # The one hot fragment: the desk queue's rows (service/jinja2/), rendered on every desk's 60 s poll. Django's
        # template engine took 4x as long for them as Jinja2 (issue 19's measurement in bench/NOTES.md).
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": True},
    },
]


def _postgres() -> dict:
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("AFTERSALES_DB_NAME", "aftersales"),
        "USER": os.environ.get("AFTERSALES_DB_USER", "postgres"),
        "PASSWORD": env_secret("AFTERSALES_DB_PASSWORD", ""),
        "HOST": os.environ.get("AFTERSALES_DB_HOST", "127.0.0.1"),
        "PORT": os.environ.get("AFTERSALES_DB_PORT", "5432"),
        "CONN_MAX_AGE": None,
        "CONN_HEALTH_CHECKS": True,
    }


SQLITE_PRAGMAS = [
    "journal_mode = WAL",
    "synchronous = NORMAL",  # in WAL mode a power cut may lose the last commits, never the database
    # The log is copied back by a thread of each writing process (core.sqlite_checkpoints), off the request path;
    # a commit does it itself only past 40 MB of log (SQLite's default: 4 MB, a few ms every hundredth request).
    "wal_autocheckpoint = 10000",
    # 16 MB of page cache per connection (SQLite's default: 2 MB): counting a branch's open requests for the desk
    # page at a million requests otherwise read its index from the operating system again on every view.
    "cache_size = -16000",
]


def _sqlite() -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("AFTERSALES_DB_NAME", str(DATA_DIR / "aftersales.sqlite3")),
        "CONN_MAX_AGE": None,
        "OPTIONS": {
            # BEGIN IMMEDIATE: a transaction takes the write lock when it starts and waits for it there (up to
            # `timeout` seconds), instead of failing at its first write when another transaction got there first.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "; ".join(f"PRAGMA {pragma}" for pragma in SQLITE_PRAGMAS),
        },
    }


_DB_KIND = os.environ.get("AFTERSALES_DB", "sqlite")
if _DB_KIND not in ("sqlite", "postgres"):
    raise ImproperlyConfigured(f"AFTERSALES_DB must be 'sqlite' or 'postgres', not {_DB_KIND!r}")
DATABASES = {"default": _postgres() if _DB_KIND == "postgres" else _sqlite()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# axes first: a locked login is refused before the next backend hashes the password (accounts/lockout.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "aftersales.accounts.backends.CachedPermissionsBackend",
]
# Argon2 for new and changed passwords; older PBKDF2 hashes still verify and are rehashed at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"  # each role where it works (reports.views.landing_of)
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A password reset link works once and for an hour (accounts/forms.py: reset mails are also limited per address).
PASSWORD_RESET_TIMEOUT = 3600
# Sessions are read from the database on every request: a per-worker cache would keep a session that was ended
# (logout) in another worker alive here.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = Path(os.environ.get("AFTERSALES_MEDIA_DIR", DATA_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True  # the demo serves assets without collectstatic
WHITENOISE_AUTOREFRESH = DEBUG

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [  # the token's first: its challenge makes a refusal a 401, not a 403
        "aftersales.accounts.backends.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["aftersales.core.api_settings.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "aftersales.core.api_settings.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "aftersales.core.api_settings.Pagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "aftersales.core.api_settings.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Aftersales API",
    "DESCRIPTION": "售后服务管理系统 REST API. Every list and object is scoped to what the caller may see.",
    "VERSION": "0.1.0",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],  # the schema describes the API, no data
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # drf-spectacular's own hook, then every operation's error answers (one body, core.api_base.ErrorOut)
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "aftersales.core.api_base.document_errors",
                             "aftersales.core.idempotency.document_header"],
    "ENUM_NAME_OVERRIDES": {
        "MailStateEnum": "aftersales.intake.models.MailState",
        "ServiceModeEnum": "aftersales.service.models.ServiceMode",
        "RequestChannelEnum": "aftersales.service.models.Channel",
        "NotificationChannelEnum": "aftersales.notify.models.Channel",
        "RequestStateEnum": "aftersales.service.models.State",
        "WorkOrderStateEnum": "aftersales.service.models.WorkOrderState",
        "TargetKindEnum": "aftersales.service.models.TargetKind",  # an SLA policy's targets (api_config.TargetRuleIn)
        "RepairStateEnum": "aftersales.repairs.models.RepairState",  # issue 22 §2: repair cases
        "ReplacementSourceEnum": "aftersales.repairs.models.ReplacementSource",
        "RoundStateEnum": "aftersales.inspections.models.RoundState",  # issue 23: inspections, training, visits
        "TrainingSessionStateEnum": "aftersales.training.models.SessionState",
        "TrainingKindEnum": "aftersales.training.models.SessionKind",
        "VisitStateEnum": "aftersales.visits.models.VisitState",
        "VisitKindEnum": "aftersales.visits.models.VisitKind",
        # issue 25: change notices, documents, hidden-danger reports and proposals, the knowledge base
        "ChangeKindEnum": "aftersales.changes.models.ChangeKind",
        "ChangeNoticeChannelEnum": "aftersales.changes.models.NoticeChannel",
        "ChangeNoticeStateEnum": "aftersales.changes.models.NoticeState",
        "ChangeVerdictEnum": "aftersales.changes.models.Verdict",
        "CompatibilityTestResultEnum": "aftersales.changes.models.TestResult",
        "DocumentKindEnum": "aftersales.documents.models.DocumentKind",
        "DocumentVisibilityEnum": "aftersales.documents.models.Visibility",
        "HazardRiskEnum": "aftersales.proposals.models.Risk",
        "HazardStateEnum": "aftersales.proposals.models.HazardState",
        "AnsweredViaEnum": "aftersales.proposals.models.AnsweredVia",
        "ProposalKindEnum": "aftersales.proposals.models.ProposalKind",
        "ProposalStateEnum": "aftersales.proposals.models.ProposalState",
        "FollowUpStepStateEnum": "aftersales.proposals.models.StepState",
        "ArticleStateEnum": "aftersales.knowledge.models.ArticleState",
        "WorkResultEnum": "aftersales.service.models.WorkResult",  # `result` is also a compatibility test's
        "RmaVerdictEnum": "aftersales.repairs.models.Verdict",  # `verdict` is also a change notice's
    },
}

AUDITLOG_INCLUDE_ALL_MODELS = False

# Background work (deadline checks, notification delivery). Tests run tasks inline.
HUEY = {
    "name": "aftersales",
    "immediate": env_bool("AFTERSALES_TASKS_INLINE", False),
    "consumer": {"workers": 2, "worker_type": "thread", "periodic": True},
}
if os.environ.get("AFTERSALES_REDIS_URL"):
    HUEY |= {"huey_class": "huey.RedisHuey", "url": os.environ["AFTERSALES_REDIS_URL"]}
else:
    from aftersales.core.queue import NormalSyncConnection

    # huey passes `factory` on to sqlite3.connect: the queue commits like the main database (core/queue.py)
    HUEY |= {"huey_class": "huey.SqliteHuey", "filename": str(DATA_DIR / "huey.sqlite3"),
             "factory": NormalSyncConnection}
# Schedule a check at each request's exact warning/escalation instant, besides the minute sweep.
AFTERSALES_EXACT_DEADLINE_CHECKS = env_bool("AFTERSALES_EXACT_DEADLINE_CHECKS", True)

EMAIL_BACKEND = os.environ.get("AFTERSALES_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_FILE_PATH = DATA_DIR / "sent-mail"  # used when the backend is the file backend (the demo)
EMAIL_HOST = os.environ.get("AFTERSALES_EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("AFTERSALES_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("AFTERSALES_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_secret("AFTERSALES_EMAIL_PASSWORD", "") or ""
EMAIL_USE_TLS = env_bool("AFTERSALES_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("AFTERSALES_FROM_EMAIL", "售后服务 <service@aftersales.example>")
SITE_URL = os.environ.get("AFTERSALES_SITE_URL", "http://127.0.0.1:8000")

# Text messages (issue 21 §12, notify/sms.py). Empty provider: no SMS, and the choice is not offered to users.
AFTERSALES_SMS_PROVIDER = os.environ.get("AFTERSALES_SMS_PROVIDER", "")  # "aliyun"
AFTERSALES_SMS_PER_USER_HOUR = int(os.environ.get("AFTERSALES_SMS_PER_USER_HOUR") or 10)  # more waits, never dropped
AFTERSALES_SMS_MAX_CHARS = int(os.environ.get("AFTERSALES_SMS_MAX_CHARS") or 70)  # what the template variable takes
AFTERSALES_SMS_ALIYUN_ENDPOINT = os.environ.get("AFTERSALES_SMS_ALIYUN_ENDPOINT", "https://dysmsapi.aliyuncs.com/")
AFTERSALES_SMS_ALIYUN_REGION = os.environ.get("AFTERSALES_SMS_ALIYUN_REGION", "cn-hangzhou")
AFTERSALES_SMS_ALIYUN_ACCESS_KEY_ID = os.environ.get("AFTERSALES_SMS_ALIYUN_ACCESS_KEY_ID", "")
AFTERSALES_SMS_ALIYUN_ACCESS_KEY_SECRET = env_secret("AFTERSALES_SMS_ALIYUN_ACCESS_KEY_SECRET", "") or ""  # or _FILE
AFTERSALES_SMS_ALIYUN_SIGN_NAME = os.environ.get("AFTERSALES_SMS_ALIYUN_SIGN_NAME", "")  # 短信签名
AFTERSALES_SMS_ALIYUN_TEMPLATE_CODE = os.environ.get("AFTERSALES_SMS_ALIYUN_TEMPLATE_CODE", "")  # SMS_123456789
AFTERSALES_SMS_ALIYUN_TEMPLATE_PARAM = os.environ.get("AFTERSALES_SMS_ALIYUN_TEMPLATE_PARAM", "content")  # ${content}

SERVICE_HOTLINE = os.environ.get("AFTERSALES_HOTLINE", "400-000-0000")
# The integrator's registered name, at the top of every printed form (printing/); the serving branch follows it.
COMPANY_NAME = os.environ.get("AFTERSALES_COMPANY_NAME", "").strip()
# Issue 25 §3: the largest project document accepted (bytes).
AFTERSALES_DOCUMENT_MAX_BYTES = int(os.environ.get("AFTERSALES_DOCUMENT_MAX_BYTES") or 20 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "[%(asctime)s] %(levelname)s %(name)s: %(message)s"}},
    "filters": {"no_client_tracebacks": {"()": "aftersales.core.log_filters.ClientErrorsWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line",
                             "filters": ["no_client_tracebacks"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("AFTERSALES_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # huey's run_huey adds its own handler to a "huey" logger that has none: every worker line came out twice
        "huey": {"handlers": ["console"], "propagate": False},
        # WeasyPrint narrates every step of every PDF at INFO; its warnings still come through
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Security (issue 20). Behind HTTPS (AFTERSALES_HTTPS=true): secure cookies, HSTS and the redirect to https://;
# AFTERSALES_BEHIND_PROXY=true trusts the reverse proxy's X-Forwarded-Proto (it must set or strip that header).
AFTERSALES_HTTPS = env_bool("AFTERSALES_HTTPS", False)
AFTERSALES_BEHIND_PROXY = env_bool("AFTERSALES_BEHIND_PROXY", False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if AFTERSALES_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if AFTERSALES_HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]  # monitors poll /health/ over plain HTTP from inside (core/health.py)
    try:
        SECURE_HSTS_SECONDS = int(os.environ.get("AFTERSALES_HSTS_SECONDS", str(365 * 24 * 3600)))
    except ValueError:
        raise ImproperlyConfigured("AFTERSALES_HSTS_SECONDS must be a whole number of seconds") from None
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("AFTERSALES_HSTS_INCLUDE_SUBDOMAINS", False)
# Not wanted unless asked for: HSTS for every subdomain of the site's domain, and the browsers' preload list
# (hard to leave). `check --deploy` would warn about both.
SILENCED_SYSTEM_CHECKS = ["security.W021"] + ([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"])
# Origins that may POST (forms, htmx): AFTERSALES_CSRF_TRUSTED_ORIGINS, or else the origin of AFTERSALES_SITE_URL.
if not CSRF_TRUSTED_ORIGINS:
    _site = urlsplit(SITE_URL)
    CSRF_TRUSTED_ORIGINS = [f"{_site.scheme}://{_site.netloc}"] if _site.scheme and _site.netloc else []
# Content-Security-Policy (django-csp 4) on every page: scripts only from here or with the request's nonce
# (`nonce="{{ request.csp_nonce }}"`), no inline style, no framing. data: images: signatures and QR codes.
# Views that send their own header (attachment downloads) keep it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        **({"upgrade-insecure-requests": True} if AFTERSALES_HTTPS else {}),
    },
}

# Inbound mail (issue 11, docs/intake-mail.md). `aftersales mail-in` needs none of this; the IMAP poller
# (`aftersales mail-poll`, and the worker every minute) is disabled while AFTERSALES_IMAP_HOST is empty.
AFTERSALES_IMAP_HOST = os.environ.get("AFTERSALES_IMAP_HOST", "")
AFTERSALES_IMAP_SSL = env_bool("AFTERSALES_IMAP_SSL", True)  # false: plain IMAP, upgraded by STARTTLS when offered
AFTERSALES_IMAP_PORT = int(os.environ.get("AFTERSALES_IMAP_PORT") or (993 if AFTERSALES_IMAP_SSL else 143))
AFTERSALES_IMAP_USER = os.environ.get("AFTERSALES_IMAP_USER", "")
AFTERSALES_IMAP_PASSWORD = env_secret("AFTERSALES_IMAP_PASSWORD", "") or ""  # or AFTERSALES_IMAP_PASSWORD_FILE
AFTERSALES_IMAP_MAILBOX = os.environ.get("AFTERSALES_IMAP_MAILBOX", "INBOX")  # dedicated: everything in it is read
AFTERSALES_IMAP_ARCHIVE_MAILBOX = os.environ.get("AFTERSALES_IMAP_ARCHIVE_MAILBOX", "")  # empty: processed mail is deleted
# The largest inbound message read (both ways in): `mail-in` refuses a larger one (the MTA bounces it), the poller
# leaves it in the mailbox unread and lists it as rejected.
AFTERSALES_MAIL_MAX_BYTES = int(os.environ.get("AFTERSALES_MAIL_MAX_BYTES") or 25 * 1024 * 1024)
# Our own address(es), comma-separated: mail from them is never ingested (mail loops). The address of
# DEFAULT_FROM_EMAIL is always included.
AFTERSALES_SERVICE_ADDRESS = os.environ.get("AFTERSALES_SERVICE_ADDRESS", "")
# A contact's reply to a closed request opens a follow-up request if it was closed at most this many days
# ago, and at most once per interval per request (docs/intake-mail.md).
AFTERSALES_MAIL_REOPEN_DAYS = int(os.environ.get("AFTERSALES_MAIL_REOPEN_DAYS", "7"))
AFTERSALES_MAIL_REOPEN_INTERVAL_MINUTES = int(os.environ.get("AFTERSALES_MAIL_REOPEN_INTERVAL_MINUTES", "60"))

# --- Login lockout (issue 20 point 1, accounts/lockout.py) -----------------------------------------------------------
# AFTERSALES_LOGIN_FAILURES failed logins for one account (from anywhere) or from one address (for any account) within
# AFTERSALES_LOGIN_LOCK_MINUTES lock that account or address for that long, counted from the last failure.
from datetime import timedelta  # noqa: E402

AXES_ENABLED = env_bool("AFTERSALES_LOGIN_LOCKOUT", True)
AXES_FAILURE_LIMIT = int(os.environ.get("AFTERSALES_LOGIN_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AFTERSALES_LOGIN_LOCK_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: per account and per address
AXES_RESET_ON_SUCCESS = False  # accounts/lockout.py forgets only the account's failures from its own address
AXES_CLIENT_IP_CALLABLE = "aftersales.accounts.lockout.client_ip"  # AFTERSALES_BEHIND_PROXY: the proxy's entry
AXES_LOCKOUT_CALLABLE = "aftersales.accounts.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
AXES_DISABLE_ACCESS_LOG = True  # successful logins are not logged again (auditlog and the access log have them)
AXES_VERBOSE = False
# Second factor (accounts/otp.py): optional for staff; AFTERSALES_REQUIRE_ADMIN_OTP=true makes administrators
# (superusers and the administrator role) enrol an authenticator app before anything else, and the admin site then
# needs a verified session.
AFTERSALES_REQUIRE_ADMIN_OTP = env_bool("AFTERSALES_REQUIRE_ADMIN_OTP", False)
OTP_TOTP_ISSUER = os.environ.get("AFTERSALES_OTP_ISSUER", "Aftersales")  # the account's label in the app
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a device's key
# --- end of login lockout ---------------------------------------------------------------------------------------------

# API tokens (issue 20 point 1, accounts/tokens.py) live this many days at most; their owner may choose fewer.
_token_days = os.environ.get("AFTERSALES_API_TOKEN_DAYS", "90").strip()
if not (_token_days.isdigit() and 1 <= int(_token_days) <= 3650):
    raise ImproperlyConfigured(f"AFTERSALES_API_TOKEN_DAYS must be a whole number from 1 to 3650, not {_token_days!r}")
AFTERSALES_API_TOKEN_DAYS = int(_token_days)


def _cost_setting(name: str) -> Decimal:
    raw = os.environ.get(name, "0").strip() or "0"
    try:
        value = Decimal(raw)
    except ArithmeticError:
        value = Decimal(-1)
    if not value.is_finite() or value < 0 or value > 100000:
        raise ImproperlyConfigured(f"{name} must be an amount in CNY from 0 to 100000, not {raw!r}")
    return value


# CUS-5: the integrator's own cost of an hour of labour and of a visit on site, written on every charge sheet (never
# charged to the customer: billing/rule.py) so the cost of warranty work can be reported. 0 until set.
AFTERSALES_LABOUR_COST_PER_HOUR = _cost_setting("AFTERSALES_LABOUR_COST_PER_HOUR")
AFTERSALES_ONSITE_COST_PER_VISIT = _cost_setting("AFTERSALES_ONSITE_COST_PER_VISIT")

# --- Backups (issue 20 point 6, README "Backups and restore") -------------------------------------------------------
# Archives are written into AFTERSALES_BACKUP_DIR and copied into AFTERSALES_BACKUP_TARGET, a directory on other
# storage (a mounted share or disk); unset: no off-site copy, and `aftersales backup` says so. The newest
# AFTERSALES_BACKUP_KEEP archives are kept in each place. The worker backs up daily at AFTERSALES_BACKUP_TIME
# (HH:MM in TIME_ZONE; "off": only by hand).
AFTERSALES_BACKUP_DIR = Path(os.environ.get("AFTERSALES_BACKUP_DIR") or DATA_DIR / "backups").resolve()
AFTERSALES_BACKUP_TARGET = os.environ.get("AFTERSALES_BACKUP_TARGET", "")
AFTERSALES_BACKUP_KEEP = int(os.environ.get("AFTERSALES_BACKUP_KEEP", "14"))
if AFTERSALES_BACKUP_KEEP < 1:
    raise ImproperlyConfigured("AFTERSALES_BACKUP_KEEP must be at least 1")
_backup_time = os.environ.get("AFTERSALES_BACKUP_TIME", "02:30").strip()
try:
    AFTERSALES_BACKUP_AT = None if _backup_time == "off" else tuple(int(part) for part in _backup_time.split(":"))
except ValueError:
    AFTERSALES_BACKUP_AT = ()
if AFTERSALES_BACKUP_AT is not None and (len(AFTERSALES_BACKUP_AT) != 2 or not 0 <= AFTERSALES_BACKUP_AT[0] < 24
                                         or not 0 <= AFTERSALES_BACKUP_AT[1] < 60):
    raise ImproperlyConfigured(f"AFTERSALES_BACKUP_TIME must be HH:MM or 'off', not {_backup_time!r}")
# --- end of backups ---------------------------------------------------------------------------------------------------
