"""Settings for the Shitun market backend.

Everything comes from the environment with a safe default, so a fresh clone runs on the
embedded default (SQLite, in-process Celery, no Redis, a random SECRET_KEY kept in var/) and
production sets DATABASE_URL, REDIS_URL and SECRET_KEY (required once DATABASE_URL is set).
See docker/env.example for the full list.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from backend.cache import redis_cache
from backend.secret_key import secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # local state of the embedded default (SQLite file, beat schedule)

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# The embedded default (no DATABASE_URL) makes a random key on first run and keeps it in var/;
# every other deployment must set its own (backend/secret_key.py).
EMBEDDED = not env.str("DATABASE_URL", default="")
SECRET_KEY = secret_key(env.str("SECRET_KEY", default=""), embedded=EMBEDDED, var_dir=VAR_DIR)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "backend",
    "accounts",
    "suppliers",
    "buyers",
    "products",
    "orders",
    "payments",
    "logistics",
    "partners",
    "notices",
    "demo",
    "mobile",
]

MIDDLEWARE = [
    # Over-long URLs and headers: 414 / 431 in the error shape (gunicorn lets them through).
    "backend.middleware.RequestLimitsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Admin and API-docs assets from our own process: no CDN, no separate file server needed.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Cheap phones on weak networks: compress, then let clients revalidate with ETags.
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "backend.middleware.PrivateRevalidateMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # request.htmx for the manager's phone page (/m/): partial answers to htmx requests.
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Limits of a request's URL (path and query as sent) and of each header, answered by
# backend.middleware.RequestLimitsMiddleware; gunicorn's own limits sit above them.
MAX_URL_BYTES = env.int("MAX_URL_BYTES", default=8192)
MAX_HEADER_BYTES = env.int("MAX_HEADER_BYTES", default=8190)

ROOT_URLCONF = "backend.urls"
WSGI_APPLICATION = "backend.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
# People sign in by phone however they type it, in the API and the admin alike.
AUTHENTICATION_BACKENDS = ["accounts.backends.PhoneBackend"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web requests and the in-process worker write from different threads: take the write
    # lock at BEGIN and wait for it instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No cursor outlives its transaction, so a transaction-pooling PgBouncer can sit in front
    # (docs/scaling.md); .iterator() then fetches in chunks on the client.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True

# --- Redis: cache, throttling, Celery broker ---------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Fails open: during a Redis outage logins work unthrottled, with a warning (backend/cache.py).
    CACHES = {
        "default": redis_cache(REDIS_URL, key_prefix=env.str("CACHE_KEY_PREFIX", default="shitun"))
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# How long a rendered page of the listing list is kept (products/catalog_cache.py; a change
# to the catalog replaces it at once). Only with Redis: LocMem is one per process, and a
# version bumped in one worker would not reach the other. 0: never cached.
CATALOG_PAGE_CACHE_SECONDS = env.int("CATALOG_PAGE_CACHE_SECONDS", default=60 if REDIS_URL else 0)
# How long a bearer token seen is remembered (accounts/token_cache.py; revoking forgets it at
# once). Only with Redis, for the same reason. 0: every request reads the token row.
AUTH_TOKEN_CACHE_SECONDS = env.int("AUTH_TOKEN_CACHE_SECONDS", default=60 if REDIS_URL else 0)

# --- Celery ---------------------------------------------------------------------------------
# Without Redis the broker is kombu's in-memory transport: `manage.py serve` runs the worker and
# beat as threads of the web process, so scheduled jobs really run on the embedded default.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_TASK_ACKS_LATE = True  # tasks are safe to run twice; a crash must not lose one
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # nor a pool process killed mid-task (OOM, SIGKILL)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "jobs-heartbeat": {"task": "backend.tasks.jobs_heartbeat", "schedule": 30.0},
    "expire-order-reservations": {
        "task": "orders.tasks.expire_reservations",
        "schedule": timedelta(minutes=5),
    },
    "place-standing-orders": {
        "task": "orders.tasks.place_standing_orders",
        "schedule": timedelta(minutes=30),
    },
    # Daily, at night in Guizhou: settle what completed and is paid; flag unpaid net terms.
    "settle-completed-fulfilments": {
        "task": "payments.tasks.settle_completed_fulfilments",
        "schedule": crontab(hour=2, minute=0),
    },
    # Card payments: take less when an order's total fell; resend refunds whose send was lost.
    "lower-card-payments": {
        "task": "payments.tasks.lower_card_payments",
        "schedule": timedelta(minutes=10),
    },
    # Stripe Connect payouts whose attempt has come (new ones, and retries after backoff).
    "send-due-payouts": {
        "task": "payments.tasks.send_due_payouts",
        "schedule": timedelta(minutes=1),
    },
    "flag-overdue-orders": {
        "task": "payments.tasks.flag_overdue_orders",
        "schedule": crontab(hour=7, minute=0),
    },
    "purge-idempotency-keys": {
        "task": "backend.tasks.purge_idempotency_keys",
        "schedule": timedelta(hours=6),
    },
    "plan-delivery-runs": {
        "task": "logistics.tasks.plan_delivery_runs",
        "schedule": timedelta(minutes=10),
    },
    "purge-expired-tokens": {
        "task": "accounts.tasks.purge_expired_tokens",
        "schedule": timedelta(hours=1),
    },
    # The outbox: notices never queued (the broker was down at commit) or lost, queued again.
    "sweep-notices": {"task": "notices.tasks.sweep_notices", "schedule": timedelta(minutes=1)},
    "send-reminders": {"task": "notices.tasks.send_reminders", "schedule": timedelta(minutes=15)},
}

# --- E-mail (standing-order reports to purchasing teams) -------------------------------------
# Console on the embedded default; e.g. smtp+tls://user:password@smtp.example.com:587 in prod.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Shitun Market <noreply@localhost>")

# --- Notices (notices/): the outbox, its channels and reminders -------------------------------
# Texts are in this language unless the reader's account says otherwise (User.language).
NOTICE_LANGUAGE = env.str("NOTICE_LANGUAGE", default="zh-hans")
# A failing send is tried this many times in all, waiting base × 2^(n-1) seconds (with
# jitter, at most the maximum) between tries; then the notice is failed for staff to replay.
NOTICE_MAX_ATTEMPTS = env.int("NOTICE_MAX_ATTEMPTS", default=6)
NOTICE_RETRY_BASE_SECONDS = env.float("NOTICE_RETRY_BASE_SECONDS", default=30.0)
NOTICE_RETRY_MAX_SECONDS = env.float("NOTICE_RETRY_MAX_SECONDS", default=1800.0)
# The sweep queues again a pending notice due this long ago and not sent, at most a batch.
NOTICE_SWEEP_AFTER_SECONDS = env.int("NOTICE_SWEEP_AFTER_SECONDS", default=60)
NOTICE_SWEEP_BATCH = env.int("NOTICE_SWEEP_BATCH", default=1000)
# Reminders: a part not confirmed this many hours after it reached the cooperative; a run's
# cut-off this many hours ahead.
NOTICE_CONFIRM_REMINDER_HOURS = env.int("NOTICE_CONFIRM_REMINDER_HOURS", default=12)
NOTICE_CUTOFF_REMINDER_HOURS = env.int("NOTICE_CUTOFF_REMINDER_HOURS", default=6)
# SMS: the console (or SMS_FILE_PATH, one JSON line per message) unless Alibaba Cloud is
# configured; its SDK (alibabacloud_dysmsapi20170525) is imported only then.
ALIYUN_SMS_ACCESS_KEY_ID = env.str("ALIYUN_SMS_ACCESS_KEY_ID", default="")
ALIYUN_SMS_ACCESS_KEY_SECRET = env.str("ALIYUN_SMS_ACCESS_KEY_SECRET", default="")
ALIYUN_SMS_SIGN_NAME = env.str("ALIYUN_SMS_SIGN_NAME", default="")
ALIYUN_SMS_ENDPOINT = env.str("ALIYUN_SMS_ENDPOINT", default="dysmsapi.aliyuncs.com")
# event type → the template code registered with Aliyun, e.g. order.placed=SMS_123,...
ALIYUN_SMS_TEMPLATES = env.dict("ALIYUN_SMS_TEMPLATES", default={})
# Empty: Aliyun with a key id, else the console.
SMS_BACKEND = env.str("SMS_BACKEND", default="") or (
    "notices.sms.AliyunSmsBackend" if ALIYUN_SMS_ACCESS_KEY_ID else "notices.sms.ConsoleSmsBackend"
)
SMS_FILE_PATH = env.str("SMS_FILE_PATH", default="")

# --- Orders -------------------------------------------------------------------------------------
# Idempotency-Key answers are kept this long (the API promises at least 24 hours).
IDEMPOTENCY_KEY_TTL = timedelta(hours=env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=48))
# Stock reserved by an order that nobody confirms (or approves) in time goes back on sale.
ORDER_RESERVATION_TTL = timedelta(hours=env.int("ORDER_RESERVATION_TTL_HOURS", default=48))
# A standing order's period missed while the jobs were down is placed late up to this many
# days after it was due; older ones are recorded as missed and the team is told.
STANDING_ORDER_CATCH_UP_DAYS = env.int("STANDING_ORDER_CATCH_UP_DAYS", default=2)
# Purchase lists (orders/spreadsheets.py): an uploaded file's size, refused from the request's
# Content-Length before the body is read; its data rows; and how long a preview can be placed.
PURCHASE_IMPORT_MAX_BYTES = env.int("PURCHASE_IMPORT_MAX_BYTES", default=2 * 1024 * 1024)
PURCHASE_IMPORT_MAX_ROWS = env.int("PURCHASE_IMPORT_MAX_ROWS", default=2000)
PURCHASE_IMPORT_TTL = timedelta(hours=env.int("PURCHASE_IMPORT_TTL_HOURS", default=24))

# --- Stripe (payments/stripe_gateway.py) ------------------------------------------------------
# Without a key the Stripe rail is off: its endpoints answer 503 stripe_unavailable, and bank
# transfers and settlement work as before.
STRIPE_API_KEY = env.str("STRIPE_API_KEY", default="")
# The signing secret of the webhook endpoint (whsec_...), from Stripe's dashboard.
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Tests point it at their own fake Stripe server (tests/payments/fake_stripe.py).
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")

# --- Payments and settlement ------------------------------------------------------------------
# Whether the daily settlement pays cooperatives for net-terms orders the buyer has not paid
# yet (the platform then carries the credit). Default: only once the buyer paid in full.
PAYMENTS_SETTLE_UNPAID_NET_TERMS = env.bool("PAYMENTS_SETTLE_UNPAID_NET_TERMS", default=False)
# Stripe Connect payouts that fail are tried again after BASE × 4^(attempts − 1) seconds
# (1, 4, 16, 64 minutes), up to MAX attempts, then left failed for staff to retry: all within
# the 24 hours Stripe keeps an idempotency key.
PAYOUT_MAX_ATTEMPTS = env.int("PAYOUT_MAX_ATTEMPTS", default=5)
PAYOUT_RETRY_BASE_SECONDS = env.int("PAYOUT_RETRY_BASE_SECONDS", default=60)
# The platform's account buyers transfer to (对公转账), shown to buyers paying by bank.
PAYMENTS_BANK_PAYEE = env.str("PAYMENTS_BANK_PAYEE", default="石屯市场平台(演示)")
PAYMENTS_BANK_ACCOUNT = env.str("PAYMENTS_BANK_ACCOUNT", default="demo-0000-0000")
PAYMENTS_BANK_NAME = env.str("PAYMENTS_BANK_NAME", default="贵阳银行南明支行(演示)")

# --- Logistics -----------------------------------------------------------------------------------
# Delivery runs are opened this many days ahead of their date.
DELIVERY_RUN_HORIZON_DAYS = env.int("DELIVERY_RUN_HORIZON_DAYS", default=14)
# A signed link to a delivery note (for a browser to show or print) works this long.
DELIVERY_NOTE_LINK_TTL = timedelta(minutes=env.int("DELIVERY_NOTE_LINK_TTL_MINUTES", default=60))

# --- Partner integrations (partners/) -----------------------------------------------------------
# Requests per partner API key (DRF rate syntax: 600/min, 20/s, 10000/hour), counted in Redis
# in a sliding window shared by every web process; without Redis, per process.
PARTNER_KEY_RATE_LIMIT = env.str("PARTNER_KEY_RATE_LIMIT", default="600/min")
PARTNER_RATE_LIMIT_REDIS_URL = env.str("PARTNER_RATE_LIMIT_REDIS_URL", default=REDIS_URL)
# A key's last-used time is written at most once per this many seconds (not per request).
PARTNER_KEY_LAST_USED_RESOLUTION = env.int("PARTNER_KEY_LAST_USED_RESOLUTION", default=60)
# Webhook URLs to loopback addresses (127.0.0.1, ::1, localhost): for tests and local
# development only (on by default on the embedded default, which is that). Private,
# link-local, multicast and reserved addresses are always refused.
PARTNER_WEBHOOKS_ALLOW_LOOPBACK = env.bool("PARTNER_WEBHOOKS_ALLOW_LOOPBACK", default=EMBEDDED)
# Seconds one delivery may take (connect and answer); a test ping waits this long at most.
PARTNER_WEBHOOK_TIMEOUT = env.float("PARTNER_WEBHOOK_TIMEOUT", default=10.0)
PARTNER_WEBHOOK_PING_TIMEOUT = env.float("PARTNER_WEBHOOK_PING_TIMEOUT", default=5.0)
# After this many deliveries in a row that finally failed, an endpoint is disabled and the
# organisation's approvers are e-mailed.
PARTNER_WEBHOOK_MAX_CONSECUTIVE_FAILURES = env.int(
    "PARTNER_WEBHOOK_MAX_CONSECUTIVE_FAILURES", default=10
)
# At most this many webhook endpoints per buyer organisation (active or not).
PARTNER_WEBHOOKS_PER_ORGANISATION = env.int("PARTNER_WEBHOOKS_PER_ORGANISATION", default=10)

# --- Auth -----------------------------------------------------------------------------------
# Reverse proxies in front of gunicorn (0 when it is published directly, as in compose.yaml).
# Only then are X-Forwarded-For (the address the login limit counts) and X-Forwarded-Proto
# trusted; without a proxy the client writes those headers itself.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": timedelta(days=env.int("TOKEN_TTL_DAYS", default=7)),
    "TOKEN_LIMIT_PER_USER": 20,
}
API_KEY_CUSTOM_HEADER = "HTTP_AUTHORIZATION"
# Loaded with the credential, in its query: almost every buyer request asks which organisation
# the account acts for (buyers.access.membership_of).
AUTH_USER_RELATED = ["buyer_membership__organisation"]
# Asked with the credential too, and remembered on the user with a remembered token
# (accounts/token_cache.py forgets it when it changes): which cooperatives a manager runs,
# which every fulfilment move and manager's list asks; a purchasing team's stores, which
# every order names.
AUTH_USER_PRELOAD = ["suppliers.access.managed_cooperative_ids", "buyers.selectors.stores_preload"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "accounts.authentication.ApiKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["backend.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "backend.api.FilterBackend",
        "backend.api.SearchFilter",
        "backend.api.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "backend.api.CursorPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "backend.schema.AutoSchema",
    "EXCEPTION_HANDLER": "backend.errors.exception_handler",
    # Per partner API key (PARTNER_KEY_RATE_LIMIT); people's requests are not counted.
    "DEFAULT_THROTTLE_CLASSES": ["partners.throttles.PartnerKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "login_ip": env.str("THROTTLE_LOGIN_IP", default="20/min"),
        "login_phone": env.str("THROTTLE_LOGIN_PHONE", default="5/min"),
    },
    "NUM_PROXIES": NUM_PROXIES,
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SPECTACULAR_SETTINGS = {
    "TITLE": "Shitun Market API",
    "DESCRIPTION": (
        "Bulk marketplace between Shitun town's cooperatives (Wangmo County, Guizhou) and "
        "Nanming District's buyers (Guiyang). Authenticate with `Authorization: Bearer <token>` "
        "from `POST /api/v1/auth/token/`, or partner systems with `Authorization: Api-Key <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Component descriptions come from each serializer's own docstring, never from the
    # project's base classes (backend.serializers), which would describe 35 components alike.
    "GET_LIB_DOC_EXCLUDES": "backend.schema.doc_excludes",
    # Tags and operation ids from the path after the version: "listings", "listings_list".
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "backend.schema.components_without_request_suffix",
        "backend.schema.query_strings_without_nul",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ListingStatusEnum": "products.models.Listing.Status",
        "ListingSettableStatusEnum": "products.models.Listing.SETTABLE_STATUSES",
        "UnitEnum": "products.models.Unit",
        "FulfilmentStatusEnum": "orders.models.FulfilmentStatus",
        "DeliveryIssueEnum": "orders.models.OrderLine.DeliveryIssue",
        "PaymentStatusEnum": "payments.models.Payment.Status",
        "StatementStatusEnum": "payments.models.Statement.Status",
        "PayoutStatusEnum": "payments.models.Payout.Status",
        "BankBatchStatusEnum": "payments.models.BankBatch.Status",
        "PaymentRailEnum": "payments.models.Rail",
        "PayoutRailEnum": "payments.models.PayoutRail",
        "RefundReasonEnum": "payments.models.Refund.Reason",
        "RefundStatusEnum": "payments.models.Refund.Status",
        "NoticeStatusEnum": "notices.models.Notice.Status",
    },
}

# --- I18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=str(VAR_DIR / "static"))
# collectstatic writes a .gz beside each file and WhiteNoise serves it to clients that accept
# gzip (GZipMiddleware never sees WhiteNoise's answers): htmx is 51 KB raw, 17 KB gzipped, on
# the manager's phone page. No manifest: file names stay as written, no collect is needed in
# tests.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Security in production -----------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if NUM_PROXIES else None
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own logger passes 4xx warnings (every 409 of a stock race) to the root handler;
    # LOG_LEVEL=ERROR quiets them too.
    "loggers": {"django": {"level": env.str("LOG_LEVEL", default="INFO")}},
}
