"""Settings for iamconsole, read from the environment (see .env.example).

Outside DEBUG the server refuses to start without SECRET_KEY, IAM_ENCRYPTION_KEYS and
ALLOWED_HOSTS.
"""

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
if not os.environ.get("IAM_SKIP_DOTENV"):
    load_dotenv(BASE_DIR / ".env", override=False)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
TESTING = env_bool("IAM_TESTING") or "pytest" in sys.modules

_DEV_ONLY_SECRET = "dev-only-insecure-secret-key-never-use-in-production-0123456789"
_DEV_ONLY_ENCRYPTION_KEY = "ZGV2LW9ubHktZW5jcnlwdGlvbi1rZXktMzItYnl0ZXM="  # 32 bytes, dev only

SECRET_KEY = os.environ.get("SECRET_KEY", "")
# Former SECRET_KEYs, still accepted while what they signed or digested ages out.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
IAM_ENCRYPTION_KEYS = env_list("IAM_ENCRYPTION_KEYS")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")

if not DEBUG and not TESTING:
    missing = [
        name
        for name, value in (
            ("SECRET_KEY", SECRET_KEY),
            ("IAM_ENCRYPTION_KEYS", IAM_ENCRYPTION_KEYS),
            ("ALLOWED_HOSTS", ALLOWED_HOSTS),
        )
        if not value
    ]
    if missing:
        raise ImproperlyConfigured(
            "iamconsole refuses to start outside DEBUG without: " + ", ".join(missing)
        )
SECRET_KEY = SECRET_KEY or _DEV_ONLY_SECRET
IAM_ENCRYPTION_KEYS = IAM_ENCRYPTION_KEYS or [_DEV_ONLY_ENCRYPTION_KEY]
ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]", "testserver"]

# The domain RAM users log in under: name@<alias>.<IAM_LOGON_DOMAIN>.
IAM_LOGON_DOMAIN = os.environ.get("IAM_LOGON_DOMAIN", "iam.localhost").strip().lower()

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "groups",
    "roles",
    "policies",
    "audit",
    "sts",
    "housekeeping",
    "singleuse",
    "resource_services",
    "federation",
    "openapi",
]

MIDDLEWARE = [
    "iamconsole.hosts.HostSchemeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "iamconsole.headers.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.ConsoleLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.ConsolePrincipalMiddleware",
]

ROOT_URLCONF = "iamconsole.urls"
WSGI_APPLICATION = "iamconsole.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.console",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        # Tests close connections per request so test databases can be dropped afterwards.
        conn_max_age=0 if TESTING else int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait on a locked database instead of failing, and use WAL for concurrent readers.
    # Transactions take the write lock when they begin, so two writers queue on the busy
    # timeout instead of one failing when it upgrades a read (the audit chain head is one row
    # every write touches).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL;",
            "transaction_mode": "IMMEDIATE",
        }
    )
    DATABASES["default"]["TEST"] = {
        "NAME": str(BASE_DIR / "var" / f"test{os.environ.get('IAM_TEST_DB_SUFFIX', '')}.sqlite3")
    }
elif os.environ.get("IAM_TEST_DB_SUFFIX"):
    # Several suites side by side on one PostgreSQL server: one test database each.
    DATABASES["default"]["TEST"] = {
        "NAME": f"test_{DATABASES['default']['NAME']}{os.environ['IAM_TEST_DB_SUFFIX']}"
    }

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "iamconsole.cache.PooledRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "iam",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "iam_cache",
        }
    }

# Celery: Redis in production; without REDIS_URL a broker that needs no server (kombu's
# filesystem transport under var/celery), so `make run` runs a real worker and beat.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    _celery_dir = Path(os.environ.get("IAM_CELERY_DIR", str(BASE_DIR / "var" / "celery")))
    for _folder in ("queue", "processed", "control"):
        (_celery_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_celery_dir / "control"),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / "celerybeat-schedule")
IAM_EXPIRE_SESSIONS_EVERY = int(os.environ.get("IAM_EXPIRE_SESSIONS_EVERY", "60"))
IAM_HOUSEKEEPING_EVERY = int(os.environ.get("IAM_HOUSEKEEPING_EVERY", "3600"))
# Where browsers and identity providers reach this server (SAML entity ids and ACS URLs).
IAM_PUBLIC_URL = os.environ.get("IAM_PUBLIC_URL", "http://127.0.0.1:8000")
IAM_SAML_XMLSEC = os.environ.get("IAM_SAML_XMLSEC", "")  # default: xmlsec1 on PATH
# Anonymous AssumeRoleWithSAML/WithOIDC calls per source address and minute.
IAM_FEDERATION_PER_IP_PER_MINUTE = int(os.environ.get("IAM_FEDERATION_PER_IP_PER_MINUTE", "120"))
IAM_AUDIT_ARCHIVE_DIR = os.environ.get(
    "IAM_AUDIT_ARCHIVE_DIR", str(BASE_DIR / "var" / "audit-archive")
)
IAM_STS_RETENTION_DAYS = int(os.environ.get("IAM_STS_RETENTION_DAYS", "30"))
CELERY_BEAT_SCHEDULE = {
    "expire-sts-sessions": {
        "task": "sts.tasks.expire_sessions",
        "schedule": float(IAM_EXPIRE_SESSIONS_EVERY),
    },
    "housekeeping": {
        "task": "housekeeping.tasks.housekeeping",
        "schedule": float(IAM_HOUSEKEEPING_EVERY),
    },
    "audit-retention": {
        "task": "audit.archive_expired_events",
        "schedule": float(os.environ.get("IAM_AUDIT_RETENTION_EVERY", "86400")),
    },
    "key-rotation": {
        "task": "accounts.tasks.enforce_key_rotation",
        "schedule": float(os.environ.get("IAM_KEY_ROTATION_EVERY", "3600")),
    },
}
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "iamconsole@localhost")

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.ConsoleBackend"]
LOGIN_URL = "/console/login"
LOGIN_REDIRECT_URL = "/console/"

PASSWORD_HASHERS = ["accounts.hashers.IamArgon2PasswordHasher"]
OTP_TOTP_ISSUER = "iamconsole"
OTP_TOTP_THROTTLE_FACTOR = 1  # delays of 1, 2, 4, 8 … s after failed codes (per device)
OTP_STATIC_THROTTLE_FACTOR = 1

# Passwords longer than this are refused before hashing (CPU/memory DoS guard).
IAM_PASSWORD_MAX_LENGTH = 1024
# Failed console sign-ins per source address per hour, across users, before refusing it.
IAM_LOGIN_FAILURES_PER_IP = int(os.environ.get("IAM_LOGIN_FAILURES_PER_IP", "100"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG and not TESTING
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 6 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG and not TESTING:
    # Browsers honour HSTS only over HTTPS, so sending it everywhere outside DEBUG is safe.
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
if env_bool("IAM_BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Preloading is a one-way commitment for the whole domain: opt in explicitly.
    SECURE_HSTS_PRELOAD = env_bool("IAM_HSTS_PRELOAD")
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
WHITENOISE_USE_FINDERS = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Alibaba's limits (reference §5.11); configurable per installation.
IAM_LIMITS = {
    "users_per_account": int(os.environ.get("IAM_LIMIT_USERS", "1000")),
    "groups_per_account": int(os.environ.get("IAM_LIMIT_GROUPS", "50")),
    "groups_per_user": 5,
    "custom_policies_per_account": 1500,
    "versions_per_policy": 5,
    "policy_document_chars": 6144,
    "session_policy_chars": 2048,
    "system_policies_per_target": 20,
    "custom_policies_per_user": 10,
    "custom_policies_per_group": 5,
    "custom_policies_per_role": 5,
    "roles_per_account": int(os.environ.get("IAM_LIMIT_ROLES", "1000")),
}

# Every handler scrubs signatures, tokens, secrets and passwords (iamconsole/logscrub.py):
# runserver's access log (django.server) included; gunicorn's is in deploy/gunicorn.conf.py.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "iamconsole.logscrub.ScrubFilter"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["scrub"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["scrub"],
        },
    },
    "loggers": {
        "django": {
            "handlers": ["console"],
            "level": "INFO" if DEBUG else os.environ.get("LOG_LEVEL", "WARNING"),
            "propagate": False,
        },
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
DEFAULT_EXCEPTION_REPORTER = "iamconsole.logscrub.ScrubbingExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "iamconsole.logscrub.ScrubbingExceptionReporterFilter"
