"""Settings for PRaP Portal.

Everything that differs between a laptop and production comes from the
environment (django-environ). The defaults run on a laptop: SQLite, tasks
inline, mail to the console.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    CSRF_TRUSTED_ORIGINS=(list, []),
    CELERY_BROKER_URL=(str, ""),
    SECURE_SSL_REDIRECT=(bool, False),
    SECURE_HSTS_SECONDS=(int, 0),
    SESSION_COOKIE_SECURE=(bool, False),
    CSRF_COOKIE_SECURE=(bool, False),
    SESSION_COOKIE_AGE=(int, 8 * 60 * 60),
    PRAP_MAX_UPLOAD_BYTES=(int, 200 * 1024 * 1024),
    PRAP_MAX_UNCOMPRESSED_BYTES=(int, 2 * 1024 * 1024 * 1024),
    PRAP_MAX_ENTRIES=(int, 10_000),
    PRAP_MAX_COMPRESSION_RATIO=(int, 200),
    PRAP_MAX_ROWS_PER_FILE=(int, 2_000_000),
    PRAP_CHUNK_ROWS=(int, 10_000),
    PRAP_STALE_LOCK_SECONDS=(int, 30 * 60),
    PRAP_RETENTION_DAYS=(int, 30),
    LOGIN_MAX_FAILURES=(int, 5),
    LOGIN_LOCKOUT_SECONDS=(int, 15 * 60),
    INVITATION_EXPIRY_DAYS=(int, 7),
    ODATA_PAGE_SIZE=(int, 1_000),
    ODATA_MAX_PAGE_SIZE=(int, 5_000),
    REPORT_PREVIEW_ROWS=(int, 25),
    REPORT_EXPORT_CHUNK_SIZE=(int, 2_000),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

SECRET_KEY = env(
    "SECRET_KEY", default="insecure-development-key-change-me-in-production-0123456789"
)
DEBUG = env("DEBUG")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "import_export",
    "participants",
    "imports",
    "reporting",
]
if env.bool("PRAP_BENCH", default=False):
    # The benchmarks' flat comparison table (bench/models.py); never in the product.
    INSTALLED_APPS.append("bench")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "prap_portal.urls"

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
                "prap_portal.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "prap_portal.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if "postgresql" in DATABASES["default"]["ENGINE"]:
    # Progress of a commit is written on its own connection, so the page can read
    # it while the commit's transaction is still open.
    DATABASES["progress"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several writers (web, inline tasks) share one file: wait rather than fail.
    # IMMEDIATE: a transaction takes the write lock when it starts, so bulk
    # writes can number their rows themselves (imports.pipeline.bulk).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    )

AUTH_USER_MODEL = "participants.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env(
            "STATICFILES_BACKEND", default="whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "media/"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# Mail: console by default, SMTP (or any backend) through EMAIL_URL.
def _mailer(url: str) -> dict[str, object]:
    if not url:
        return {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    config = environ.Env.email_url_config(url)
    options = {
        "host": config.get("EMAIL_HOST"),
        "port": config.get("EMAIL_PORT"),
        "username": config.get("EMAIL_HOST_USER"),
        "password": config.get("EMAIL_HOST_PASSWORD"),
        "use_tls": config.get("EMAIL_USE_TLS", False),
        "use_ssl": config.get("EMAIL_USE_SSL", False),
    }
    return {"BACKEND": config["EMAIL_BACKEND"], "OPTIONS": {k: v for k, v in options.items() if v}}


MAILERS = {"default": _mailer(env("EMAIL_URL", default=""))}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="PRaP Portal <no-reply@prap-portal.local>")

# Uploads: the zip is streamed to a temporary file, never held in memory whole.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
PRAP_MAX_UPLOAD_BYTES = env("PRAP_MAX_UPLOAD_BYTES")
PRAP_MAX_UNCOMPRESSED_BYTES = env("PRAP_MAX_UNCOMPRESSED_BYTES")
PRAP_MAX_ENTRIES = env("PRAP_MAX_ENTRIES")
PRAP_MAX_COMPRESSION_RATIO = env("PRAP_MAX_COMPRESSION_RATIO")
PRAP_MAX_ROWS_PER_FILE = env("PRAP_MAX_ROWS_PER_FILE")
PRAP_CHUNK_ROWS = env("PRAP_CHUNK_ROWS")
PRAP_STALE_LOCK_SECONDS = env("PRAP_STALE_LOCK_SECONDS")
# Uploaded bundles and staged rows are purged after this many days (purge_batches).
PRAP_RETENTION_DAYS = env("PRAP_RETENTION_DAYS")
INVITATION_EXPIRY_DAYS = env("INVITATION_EXPIRY_DAYS")

# Reporting: the OData feed pages server-side (a client may ask for smaller
# pages, never larger than the cap); exports stream in chunks of rows.
ODATA_PAGE_SIZE = env("ODATA_PAGE_SIZE")
ODATA_MAX_PAGE_SIZE = env("ODATA_MAX_PAGE_SIZE")
REPORT_PREVIEW_ROWS = env("REPORT_PREVIEW_ROWS")
REPORT_EXPORT_CHUNK_SIZE = env("REPORT_EXPORT_CHUNK_SIZE")

# Background work: Celery when a broker is configured, otherwise inline.
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
# Inline work that fails leaves its batch failed with the reason; the page shows it.
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True

# Cache: per process by default. Several web processes must share one (CACHE_URL,
# e.g. redis://host:6379/1), or the sign-in throttle counts each process apart.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# Sign-in throttle: after this many failures for one username or one address,
# further attempts are refused for the lockout time.
LOGIN_MAX_FAILURES = env("LOGIN_MAX_FAILURES")
LOGIN_LOCKOUT_SECONDS = env("LOGIN_LOCKOUT_SECONDS")

SESSION_COOKIE_AGE = env("SESSION_COOKIE_AGE")
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env("SESSION_COOKIE_SECURE")
CSRF_COOKIE_SECURE = env("CSRF_COOKIE_SECURE")
SECURE_SSL_REDIRECT = env("SECURE_SSL_REDIRECT")
SECURE_HSTS_SECONDS = env("SECURE_HSTS_SECONDS")
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
