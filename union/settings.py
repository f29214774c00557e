"""Solidaire settings, read from the environment.

With no environment at all the site runs as the *embedded default*: SQLite in var/,
a file-based Celery broker, secrets generated once into var/. Setting DATABASE_URL
switches to *server* mode, where every secret must be given explicitly and a bad
value stops the process at start-up instead of running half-configured.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from cms import quick_exit

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("SOLIDAIRE_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
SERVER_MODE = "DATABASE_URL" in env.ENVIRON
EMBEDDED = not SERVER_MODE


def _embedded_secrets() -> dict[str, str]:
    """Secrets for the embedded default, generated once and kept outside the database."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    values = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "FIELD_HASH_KEY": secrets.token_urlsafe(32),
    }
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


def _secret(name: str) -> str:
    if name in env.ENVIRON:
        value = env.str(name)
        if not value:
            raise ImproperlyConfigured(f"{name} is set but empty.")
        return value
    if SERVER_MODE:
        raise ImproperlyConfigured(f"{name} must be set when DATABASE_URL is set.")
    return _embedded_secrets()[name]


def _bool(name: str, default: bool) -> bool:
    """A yes/no setting. Unlike env.bool, a typo ("flase", "maybe") stops the process: read
    as False it would quietly turn off HTTPS-only cookies or HSTS in production."""
    raw = env.ENVIRON.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def _weak_key(key: str) -> bool:
    """Django's own test (check --deploy, security.W009): short, few distinct characters,
    or the placeholder startproject writes."""
    return len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-")


SECRET_KEY = _secret("SECRET_KEY")
# Old keys, newest first, so that changing SECRET_KEY does not sign everyone out at once.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
DEBUG = _bool("DEBUG", default=False)
if SERVER_MODE:
    # Not a warning that nobody reads: a server that would show settings and data on its
    # error pages, or sign sessions with a guessable key, does not start at all.
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be false when DATABASE_URL is set.")
    if _weak_key(SECRET_KEY):
        raise ImproperlyConfigured(
            "SECRET_KEY is too weak: use at least 50 random characters "
            "(python3 -c 'import secrets; print(secrets.token_urlsafe(64))')."
        )
    if any(_weak_key(key) for key in SECRET_KEY_FALLBACKS):
        raise ImproperlyConfigured("SECRET_KEY_FALLBACKS holds a key that is too weak.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_NAME = env.str("SITE_NAME", default="Solidaire")
ADMIN_URL = env.str("ADMIN_URL", default="django-admin/")

# Sensitive member fields are encrypted with these keys (Fernet, first one encrypts,
# all of them decrypt, so keys can be rotated); phone lookups use a keyed hash
# with FIELD_HASH_KEY. Neither is derived from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = [k.strip() for k in _secret("FIELD_ENCRYPTION_KEYS").split(",") if k]
FIELD_HASH_KEY = _secret("FIELD_HASH_KEY")
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be comma-separated Fernet keys "
            "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())')."
        ) from exc
if len(FIELD_HASH_KEY) < 32:
    raise ImproperlyConfigured("FIELD_HASH_KEY must be at least 32 characters.")

INSTALLED_APPS = [
    "union.apps.UnionConfig",
    "votes.apps.VotesConfig",
    "dues.apps.DuesConfig",
    "crisis.apps.CrisisConfig",
    "cms.apps.CmsConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
    "django_filters",
    "django_tables2",
    "import_export",
    # The public site (cms/): Wagtail and what it needs.
    "django.contrib.sitemaps",
    "wagtail.contrib.simple_translation",
    "wagtail.locales",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "union.middleware.SecurityHeadersMiddleware",  # before whitenoise: static files too
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "union.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "union.middleware.MemberLanguageMiddleware",
    "cms.middleware.AddressLanguageMiddleware",  # /en/... stays English
    "django.contrib.messages.middleware.MessageMiddleware",
    "union.middleware.SessionGuardMiddleware",  # after messages: it says why it signed out
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "union.urls"
WSGI_APPLICATION = "union.wsgi.application"

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
                "union.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'solidaire.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Keep each worker thread's connection between requests (checked before reuse): opening
    # one costs more than building most pages. ?conn_max_age=0 in the URL turns it off.
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = str(
        DATABASES["default"].get("CONN_HEALTH_CHECKS", True)
    ).lower() not in ("0", "false", "no", "off")
    # Behind pgbouncer in transaction pooling, consecutive transactions of one Django
    # connection run on different server connections: nothing may outlive a transaction.
    # So no server-side cursors (.iterator() would lose its cursor between fetches) and no
    # prepared statements (psycopg prepares a query after its fifth use, on a server
    # connection the next transaction may not get).
    if _bool("DATABASE_TRANSACTION_POOLING", default=False):
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One writer at a time: a write waits its turn (up to 20 s, under gunicorn's 30 s)
    # rather than failing with "database is locked" when a vote or the first of the month
    # brings many at once.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "union:login"
LOGIN_REDIRECT_URL = "union:home"
LOGOUT_REDIRECT_URL = "union:home"

# Login attempts: locked per account and, separately, per address.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Only what lockouts need, only while they need it (union/lockouts.py): no log of who
# signed in, failures without browser or page, deleted once their cool-off is over.
AXES_HANDLER = "union.lockouts.MinimalRecordsHandler"
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# Masked in axes's own log lines too.
AXES_SENSITIVE_PARAMETERS = ["password", "username", "ip_address"]
# Behind a reverse proxy every visitor comes from the proxy's address; set the number of
# trusted proxies so that lockouts apply to the real client address (X-Forwarded-For).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "union.net.client_ip"

LANGUAGE_CODE = "en"
# Each language is named in itself, everywhere. Khmer and Zulu have no interface
# translation yet (English shows instead, and the screen says so in the visitor's language:
# locale/km and locale/zu hold those few strings, which also let Django serve /zu/), but
# the public site can be written in them.
LANGUAGES = [("en", "English"), ("fr", "Français"), ("km", "ខ្មែរ"), ("zu", "isiZulu")]
INTERFACE_LANGUAGES = ("en", "fr")  # fully translated screens
LANGUAGE_COOKIE_NAME = "language"
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"
# Files every web node and worker must see alike: with more than one machine, MEDIA_ROOT
# is a directory they share (or see docs/deploy.md for object storage).
PRIVATE_FILES_ROOT = env.path("PRIVATE_FILES_ROOT", default=str(Path(MEDIA_ROOT) / "private"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Never served by any address: uploads waiting for a confirmation (pending imports).
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(PRIVATE_FILES_ROOT),
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if _bool("SOLIDAIRE_PLAIN_STATIC", default=False):
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# Uploads: registers are small; refuse anything larger before reading it.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
# Larger uploads are checked and imported by a worker, with a progress page (a register
# of a few thousand rows is done within the request, in about a second).
IMPORT_BACKGROUND_BYTES = env.int("IMPORT_BACKGROUND_BYTES", default=256 * 1024)
# Exports of more members than this are made by a worker and downloaded from their page.
EXPORT_BACKGROUND_ROWS = env.int("EXPORT_BACKGROUND_ROWS", default=20_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES

# Security headers. HTTPS-only flags are on whenever the site is not the embedded default.
SECURE_HTTPS = _bool("SECURE_HTTPS", default=SERVER_MODE)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", default=SECURE_HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if SECURE_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=SECURE_HTTPS)
SECURE_HSTS_PRELOAD = _bool("SECURE_HSTS_PRELOAD", default=SECURE_HTTPS)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE_HTTPS else None
# Nothing leaves for other sites. Not "no-referrer": with it browsers send `Origin: null`
# on our own form posts, and Django's CSRF check refuses every one of them.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"  # no other window keeps a handle on ours
# Browser features no page of ours uses, refused to every page and anything framed in it.
# Autoplay, fullscreen and encrypted media stay allowed: the video embeds use them.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "ambient-light-sensor",
        "bluetooth",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
    )
)
# The language choice: a cookie as private as the session's.
LANGUAGE_COOKIE_SECURE = SECURE_HTTPS
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Sessions read from the cache (shared by all processes), written through to the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)  # the longest, in use
# Phones are shared: a session ends with the browser, and after this long unused
# (union.middleware.SessionGuardMiddleware); shorter once past the second factor.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_IDLE_MINUTES_OFFICE = env.int("SESSION_IDLE_MINUTES_OFFICE", default=15)
if min(SESSION_IDLE_MINUTES, SESSION_IDLE_MINUTES_OFFICE) < 1:
    raise ImproperlyConfigured(
        "SESSION_IDLE_MINUTES and SESSION_IDLE_MINUTES_OFFICE must be 1 or more."
    )
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        # The quick exit's inline script, by its hash (cms/quick_exit.py), and nothing else.
        "script-src": ["'self'", quick_exit.CSP_SOURCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# The public site (cms/, Wagtail). Pages are cached for anonymous visitors and the cache is
# purged on every publish; the file cache is shared by all server processes, set CACHE_URL
# (redis://...) in production.
CACHES = {
    "default": env.cache_url("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}"),
    # Wagtail writes every rendition it looks up back to its cache, on every page view:
    # keep that in each process's memory (renditions never change, only disappear).
    "renditions": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "TIMEOUT": 600,
        "OPTIONS": {"MAX_ENTRIES": 2000},
    },
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # The same, but a Redis that is away makes the site slower, not an error page.
    CACHES["default"]["BACKEND"] = "union.cache.RedisCache"
CMS_CACHE_SECONDS = env.int("CMS_CACHE_SECONDS", default=600)
CMS_STATISTICS_MINIMUM = env.int("CMS_STATISTICS_MINIMUM", default=10)  # smaller counts: hidden
# Where the quick-exit button sends a visitor: an ordinary, unrelated site.
CMS_QUICK_EXIT_URL = env.str("QUICK_EXIT_URL", default="https://www.bbc.com/weather")
if not CMS_QUICK_EXIT_URL.startswith("https://"):
    raise ImproperlyConfigured("QUICK_EXIT_URL must be an https:// address.")
WAGTAIL_SITE_NAME = SITE_NAME
WAGTAILADMIN_BASE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
WAGTAILADMIN_PERMITTED_LANGUAGES = [("en", "English"), ("fr", "Français")]
WAGTAIL_FRONTEND_LOGIN_URL = LOGIN_URL  # pages restricted to signed-in people: the union's
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = False  # passwords come from a code given by the branch
WAGTAIL_PASSWORD_RESET_ENABLED = False
WAGTAIL_EMAIL_MANAGEMENT_ENABLED = False
WAGTAIL_GRAVATAR_PROVIDER_URL = None  # no avatar requests to gravatar.com
WAGTAIL_ENABLE_UPDATE_CHECK = False  # no calls to wagtail.org from the admin
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False
WAGTAIL_WORKFLOW_REQUIRE_REAPPROVAL_ON_EDIT = True
WAGTAIL_FINISH_WORKFLOW_ACTION = "cms.publishing.publish_approved"
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["pdf", "odt", "ods", "docx", "xlsx", "txt", "epub"]
WAGTAILIMAGES_EXTENSIONS = ["jpg", "jpeg", "png", "webp"]
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024  # bytes
WAGTAILIMAGES_IMAGE_FORM_BASE = "cms.forms.ImageForm"  # a damaged file is a form error
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000  # the page editor posts many fields

# Email: console in the embedded default, SMTP (EMAIL_URL) in production.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email.pop("EMAIL_BACKEND")
for _name, _value in _email.items():
    globals()[_name] = _value
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="noreply@localhost")

# SMS: a file backend in the embedded default; Africa's Talking in production.
SMS_BACKEND = env.str("SMS_BACKEND", default="union.notifications.sms.FileSmsBackend")
SMS_FILE_PATH = env.path("SMS_FILE_PATH", default=str(VAR_DIR / "sms"))
SMS_SENDER_ID = env.str("SMS_SENDER_ID", default="")
AFRICASTALKING_USERNAME = env.str("AFRICASTALKING_USERNAME", default="")
AFRICASTALKING_API_KEY = env.str("AFRICASTALKING_API_KEY", default="")
if SMS_BACKEND.endswith("AfricasTalkingSmsBackend") and not (
    AFRICASTALKING_USERNAME and AFRICASTALKING_API_KEY
):
    raise ImproperlyConfigured(
        "AFRICASTALKING_USERNAME and AFRICASTALKING_API_KEY are needed for that SMS_BACKEND."
    )
DEFAULT_PHONE_REGION = env.str("DEFAULT_PHONE_REGION", default="ML")
# Inbound SMS (crisis replies). Africa's Talking does not sign its callbacks: the callback
# address carries this secret (/crisis/sms/at/<secret>/). Twilio signs with the auth token.
# Unset: that webhook answers 404 to everything.
CRISIS_SMS_INBOUND_SECRET = env.str("CRISIS_SMS_INBOUND_SECRET", default="")
if CRISIS_SMS_INBOUND_SECRET and len(CRISIS_SMS_INBOUND_SECRET) < 24:
    raise ImproperlyConfigured("CRISIS_SMS_INBOUND_SECRET must be at least 24 characters.")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
# Sending through Twilio (SMS_BACKEND=union.notifications.sms.TwilioSmsBackend): the account,
# and a Messaging Service or SMS_SENDER_ID as the sender; delivery reports go to the status
# callback address (https://<host>/crisis/sms/twilio/status/).
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_STATUS_CALLBACK = env.str("TWILIO_STATUS_CALLBACK", default="")
if SMS_BACKEND.endswith("TwilioSmsBackend") and not (
    TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and (TWILIO_MESSAGING_SERVICE_SID or SMS_SENDER_ID)
):
    raise ImproperlyConfigured(
        "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and a sender (TWILIO_MESSAGING_SERVICE_SID or "
        "SMS_SENDER_ID) are needed for that SMS_BACKEND."
    )

# Celery. The embedded default uses a file broker in var/ so jobs still run
# (worker and beat are started by `make run`) without any external server.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="" if SERVER_MODE else "filesystem://")
if SERVER_MODE and not CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured("CELERY_BROKER_URL must be a redis:// URL when DATABASE_URL is set.")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery"
    (_queue_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_queue_dir / "processed"),
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
# Seconds after which an outbox message claimed by a worker that died is sent again. It
# must outlast the send task's hard time limit (60 s), or a slow send could go out twice.
OUTBOX_CLAIM_TIMEOUT = env.int("OUTBOX_CLAIM_TIMEOUT", default=600)
if OUTBOX_CLAIM_TIMEOUT <= 60:
    raise ImproperlyConfigured("OUTBOX_CLAIM_TIMEOUT must be more than 60 (seconds).")
CELERY_TASK_ALWAYS_EAGER = _bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Each app contributes its jobs (union.registry.register_periodic_job).
CELERY_BEAT_SCHEDULER = "union.celery:RegistryScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"

# Logging: no request bodies, no names, no query strings (a search for a phone number would
# land in the log: union.log_filters cuts them off). Paths never carry personal data
# (members are addressed by opaque ids). The development server (`make run`) logs each
# request like gunicorn's access log in production: method, path, status, size.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"paths_only": {"()": "union.log_filters.PathsOnly"}},
    "formatters": {
        "server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["paths_only"]},
        "server": {
            "class": "logging.StreamHandler",
            "formatter": "server",
            "filters": ["paths_only"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Replaces Django's own handlers (a console one when DEBUG, mail to ADMINS), which
        # would print or send the request unfiltered; its records reach the root's.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
        "axes": {"level": "WARNING"},
    },
}

DJANGO_TABLES2_TEMPLATE = "office/includes/table.html"
OFFICE_PAGE_SIZE = 50

# Display of money and members.
MEMBERSHIP_NUMBER_DIGITS = 6
SET_PASSWORD_CODE_HOURS = env.int("SET_PASSWORD_CODE_HOURS", default=72)

# Card payments (Stripe). Without these the card option is hidden and nothing else changes:
# cash and mobile money never depend on Stripe.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_WEBHOOK_TOLERANCE = env.int("STRIPE_WEBHOOK_TOLERANCE", default=300)  # seconds
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
_stripe = [STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY, STRIPE_WEBHOOK_SECRET]
if any(_stripe) and not all(_stripe):
    raise ImproperlyConfigured(
        "Set all of STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY and STRIPE_WEBHOOK_SECRET, or none."
    )
if STRIPE_SECRET_KEY and not STRIPE_SECRET_KEY.startswith(("sk_", "rk_")):
    raise ImproperlyConfigured("STRIPE_SECRET_KEY must be a Stripe secret key (sk_... or rk_...).")
# Dues reminders go out on this day of the month, at this local hour (a daytime hour:
# a text arriving at night on a shared phone draws attention).
DUES_REMINDER_DAY = env.int("DUES_REMINDER_DAY", default=5)
DUES_REMINDER_HOUR = env.int("DUES_REMINDER_HOUR", default=10)
