"""Jamono settings: every environment variable is read here, and documented in README.md.

Importing them only reads (the environment, and the generated secret key file): it starts no
server and writes nothing. With ``DATABASE_URL`` / ``REDIS_URL`` unset, the entry points
(``manage.py``, ``make run``, the test session) start or attach to the embedded PostgreSQL and
Redis first and export their URLs, see ``jamono.embedded.embedded_services_ensure``.
"""

from __future__ import annotations

import os
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from kombu import Exchange, Queue

from jamono import embedded

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


# --- Core -------------------------------------------------------------------------------------

DATA_DIR = Path(env_str("JAMONO_DATA_DIR", str(BASE_DIR / ".data"))).resolve()


# Where the key generated for an install without JAMONO_SECRET_KEY is kept (the entry points
# write it once, see jamono.embedded; the field-encryption key derives from it).
SECRET_KEY_FILE = DATA_DIR / "secret_key"


def _secret_key() -> str:
    """The configured key, else the generated one; empty if neither exists yet, and then Django
    refuses, at the first use of the key, to sign anything with it."""
    configured = env_str("JAMONO_SECRET_KEY")
    if configured:
        return configured
    return SECRET_KEY_FILE.read_text().strip() if SECRET_KEY_FILE.exists() else ""


SECRET_KEY = _secret_key()
DEBUG = env_bool("JAMONO_DEBUG", False)
ALLOWED_HOSTS = env_list("JAMONO_ALLOWED_HOSTS", "localhost,127.0.0.1,.localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("JAMONO_CSRF_TRUSTED_ORIGINS")
# Comma-separated Fernet keys; the first encrypts, all decrypt (key rotation). Empty: derived
# from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEY")

# --- HTTPS: one switch for a deployment behind a TLS-terminating proxy -------------------------

# Off for `make run` on http://localhost (Secure cookies and HSTS would break it).
HTTPS = env_bool("JAMONO_HTTPS", False)
# The proxy says which scheme the client used; only trusted when HTTPS is on.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
# A year, tenants' subdomains included (each tenant is <schema>.<suffix>); not preloaded.
SECURE_HSTS_SECONDS = 365 * 24 * 3600 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
# Sent by apps.core.middleware.ContentSecurityPolicyMiddleware when not empty. The pages have
# no inline script; their small <style> blocks need 'unsafe-inline' for styles only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'; upgrade-insecure-requests"
    if HTTPS
    else ""
)

# --- Applications (django-tenants: shared apps in "public", tenant apps in each schema) -------

SHARED_APPS = [
    "django_tenants",
    "apps.tenants",
    "apps.core",
    "apps.integrations.slack",
    "apps.onboarding",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    # Its key model is abstract here (each company's keys live in its schema, apps.api); the
    # app is installed because the package defines a concrete model too.
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    # Swagger UI and ReDoc served from our static files, no CDN.
    "drf_spectacular_sidecar",
    "channels",
    # Login attempts of the operators' admin, kept in the public schema.
    "axes",
]
# Each tenant gets its own users and admin (on its own domain) next to its product data.
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    # Login attempts of the tenant's own admin, kept in its schema next to its users: a lockout
    # on one company's admin never locks the same user name out of another's.
    "axes",
    # Its people: roles (groups), invitations, the login and password-reset pages.
    "apps.accounts",
    "apps.agents",
    "apps.conversations",
    "apps.tools",
    "apps.votes",
    "apps.knowledge",
    "apps.integrations.jira",
    "apps.api",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "jamono.urls_public"
ROOT_URLCONF = "jamono.urls_tenants"
# Slack, /healthz and the admin are reached on any host name; unknown hosts see the public site.
SHOW_PUBLIC_IF_NO_TENANT_FOUND = True
# Served on the public schema whatever the host (Slack routes by team_id, not by host).
PUBLIC_PATH_PREFIXES = ["/slack/"]
# `SET search_path` once per connection checkout and schema switch, not before every query:
# django-tenants forgets it on close, rollback and savepoint rollback (which undo a SET).
TENANT_LIMIT_SET_CALLS = True
TENANT_SUBDOMAIN_SUFFIX = env_str("JAMONO_TENANT_DOMAIN_SUFFIX", "localhost")

MIDDLEWARE = [
    # First: an oversized body is refused by its declared length before anything reads it.
    "apps.core.request_limits.RequestBodyLimitMiddleware",
    "apps.core.middleware.HealthCheckMiddleware",
    "apps.integrations.slack.middleware.SlackEventsMiddleware",
    "apps.core.middleware.TenantRoutingMiddleware",
    # In the attacked admin's schema, before anything costly: see the class.
    "apps.core.middleware.LoginLockoutMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "apps.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # A company's pages speak its language unless the person picked one (apps.core.language).
    "apps.core.language.TenantLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# Where `make run` (jamono.stack) serves the ASGI app.
PORT = env_int("PORT", 8000)
BIND_HOST = env_str("JAMONO_HOST", "127.0.0.1")
# ASGI worker processes; two keeps both cores busy under a burst of Slack events.
WEB_WORKERS = env_int("JAMONO_WEB_WORKERS", 2)

WSGI_APPLICATION = "jamono.wsgi.application"
ASGI_APPLICATION = "jamono.asgi.application"

# --- Database ---------------------------------------------------------------------------------

# Unset: the entry points export the embedded server's URL here before the settings are read.
# Still unset (a process started on its own): no connection parameters at all, so the first
# query fails with Django's "settings.DATABASES is improperly configured" instead of reaching
# some other server; uvicorn and Celery refuse to start earlier (standalone_settings_require).
DATABASE_URL = env_str("DATABASE_URL")
# Applied by the entry points when they start the embedded PostgreSQL.
EMBEDDED_POSTGRES_SHARED_BUFFERS_MB = env_int(
    "EMBEDDED_POSTGRES_SHARED_BUFFERS_MB", embedded.default_shared_buffers_mb()
)
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 10)
_database = dj_database_url.parse(DATABASE_URL) if DATABASE_URL else {"NAME": ""}
DATABASES = {
    "default": {
        **_database,
        "ENGINE": "django_tenants.postgresql_backend",
        # Under ASGI every request runs in its own thread; persistent per-thread connections
        # would leak one per thread, so connections come from a bounded pool instead.
        "CONN_MAX_AGE": 0,
        "OPTIONS": {
            **_database.get("OPTIONS", {}),
            "pool": {
                "min_size": 1,
                "max_size": DATABASE_POOL_MAX_SIZE,
                "timeout": 10,
            },
        },
    }
}
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker, cache, Channels layer ----------------------------------------------

# Unset: exported by the entry points, as DATABASE_URL. Still unset: the cache and the Channels
# layer refuse the empty URL at first use; uvicorn and Celery refuse to start without it.
REDIS_URL = env_str("REDIS_URL")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # Every cache key carries the tenant schema: no cache entry crosses tenants.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # A socket's consumer waits for its events with BZPOPMIN for 5 s at a time; redis-py 8
            # reads with a 5 s socket timeout by default, which would end every quiet socket
            # (redis.exceptions.TimeoutError). Longer than the wait, still finite.
            "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
            "prefix": "jamono:channels",
        },
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_RESULT_EXPIRES = 3600
# One result backend per process, not one per thread: web requests each run in a fresh thread
# and would otherwise build a new Redis backend on every enqueue.
CELERY_RESULT_BACKEND_THREAD_SAFE = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "jamono"
# Processes of `make run`'s two workers: one for answers, one for ingestion and housekeeping.
CELERY_WORKER_CONCURRENCY = env_int("CELERY_WORKER_CONCURRENCY", 2)
INGEST_WORKER_CONCURRENCY = env_int("JAMONO_INGEST_WORKER_CONCURRENCY", 1)
# Every task goes to the queue of its kind, and each queue has workers of its own (jamono.stack,
# docker-compose.yml): a model that hangs holds answer slots only, never the embedding of
# documents nor beat's sweeps. Answers keep the default queue: a person waits for them.
TASK_KIND_BY_NAME = {
    "apps.conversations.tasks.answer_generate_task": "answers",
    # One embedding, right after its answer: it follows the answer rather than wait behind
    # the embedding of whole documents.
    "apps.conversations.tasks.answer_remember_task": "answers",
    "apps.knowledge.tasks.document_index_task": "ingest",
    "apps.knowledge.tasks.document_embed_task": "ingest",
    "apps.knowledge.tasks.starter_packs_load_task": "ingest",
    "apps.conversations.tasks.answers_retry_waiting_all_tenants": "housekeeping",
    "apps.conversations.tasks.answers_retry_waiting_task": "housekeeping",
    "apps.knowledge.tasks.documents_embed_waiting_all_tenants": "housekeeping",
    "apps.integrations.slack.tasks.slack_install_states_purge_task": "housekeeping",
    "apps.agents.tasks.agents_sync_definitions_task": "housekeeping",
    "apps.agents.tasks.agent_roster_task": "housekeeping",
    # A company signing up: its tenant (schema, migrations, agents) is created here.
    "apps.onboarding.tasks.signup_provision_task": "housekeeping",
    # Tickets kept as incidents while the tracker refused or was down.
    "apps.tools.tasks.incidents_retry_all_tenants": "housekeeping",
    "apps.tools.tasks.incidents_retry_task": "housekeeping",
    "apps.tools.tasks.incident_retry_task": "housekeeping",
    # A passed vote's action and the vote's messages: people are waiting for them.
    "apps.votes.tasks.vote_execute_task": "answers",
    "apps.votes.tasks.vote_message_refresh_task": "answers",
    "apps.votes.tasks.vote_reply_task": "answers",
    "apps.votes.tasks.vote_advice_task": "answers",
    # Votes past their deadline.
    "apps.votes.tasks.votes_expire_all_tenants": "housekeeping",
    "apps.votes.tasks.votes_expire_task": "housekeeping",
}


def celery_routing(default_queue: str) -> tuple[dict[str, str], list[Queue], dict[str, dict]]:
    """Queue names by kind, the queues to declare, and the routes by task name: all named after
    the default queue, so a settings module that renames it (the tests') renames them all."""
    queues = {
        "answers": default_queue,
        "ingest": f"{default_queue}.ingest",
        "housekeeping": f"{default_queue}.housekeeping",
    }
    # A direct exchange and routing key of its own each: never two queues bound to one key.
    declared = [Queue(name, Exchange(name), routing_key=name) for name in queues.values()]
    routes = {task: {"queue": queues[kind]} for task, kind in TASK_KIND_BY_NAME.items()}
    return queues, declared, routes


# A worker started without -Q (as in the tests) consumes every declared queue.
TASK_QUEUES, CELERY_TASK_QUEUES, CELERY_TASK_ROUTES = celery_routing(CELERY_TASK_DEFAULT_QUEUE)
# Workers log through Django's LOGGING (and so its secret-scrubbing filter), not Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    # Questions that met an unreachable model are answered once it is back.
    "answers-retry-waiting": {
        "task": "apps.conversations.tasks.answers_retry_waiting_all_tenants",
        "schedule": float(env_int("ANSWERS_RETRY_INTERVAL_S", 120)),
    },
    # Documents whose embedding gave up (model down for a long time) get another go.
    "documents-embed-waiting": {
        "task": "apps.knowledge.tasks.documents_embed_waiting_all_tenants",
        "schedule": 900.0,
    },
    # Tickets kept as local incidents (the tracker refused them or was down) are tried again.
    "incidents-retry": {
        "task": "apps.tools.tasks.incidents_retry_all_tenants",
        "schedule": float(env_int("INCIDENTS_RETRY_INTERVAL_S", 600)),
    },
    # Votes past their deadline are closed as rejected (expired) and their messages updated.
    "votes-expire": {
        "task": "apps.votes.tasks.votes_expire_all_tenants",
        "schedule": 60.0,
    },
    # "Add to Slack" states that can no longer be used.
    "slack-install-states-purge": {
        "task": "apps.integrations.slack.tasks.slack_install_states_purge_task",
        "schedule": 86400.0,
    },
}

# --- Auth, i18n, static -----------------------------------------------------------------------

# django-axes first: a locked-out login is refused before any password is hashed (a hash costs
# ~0.25 s of CPU, so a flood of wrong passwords would otherwise slow every other request).
# A company's site has its own login page (apps.accounts); its people land on the dashboard.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Wrong passwords tolerated, per account and per client IP alike, before either is locked out
# of the login for JAMONO_LOGIN_LOCKOUT_MINUTES (the admin answers 429 meanwhile).
AXES_FAILURE_LIMIT = env_int("JAMONO_LOGIN_FAILURE_LIMIT", 10)
# Login posts one address may send a web process per minute before each further one waits
# LOGIN_FLOOD_DELAY_S and gets 429 without reaching Django (apps.core.login_flood).
LOGIN_POSTS_PER_MINUTE = env_int("JAMONO_LOGIN_POSTS_PER_MINUTE", 20)
LOGIN_FLOOD_DELAY_S = float(env_str("JAMONO_LOGIN_FLOOD_DELAY_S", "1.0"))
AXES_COOLOFF_TIME = timedelta(minutes=env_int("JAMONO_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# Attempts made while locked out are refused without a database write: a flood of them must
# not grow the attempt's row (axes appends each attempt's data to it) nor extend the lockout.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# No start-up banner in every process (manage.py commands included).
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("JAMONO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Created by the entry points (jamono.embedded), not here: importing the settings writes nothing.
STATIC_ROOT = DATA_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the app folders so `make run` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    # A company's API keys, or a session of its site (logged in under the login throttling):
    # no HTTP Basic, which would make every request a password check of its own.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.api.permissions.ApiAccess"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "apps.api.errors.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "ORDERING_PARAM": "ordering",
}
# Requests per API key (or person) and period ("600/minute", "50/second"); empty: no limit.
API_RATE_LIMIT = env_str("JAMONO_API_RATE_LIMIT", "600/minute")
SPECTACULAR_SETTINGS = {
    "TITLE": "Jamono API",
    "DESCRIPTION": (
        "A company's agents, tools, conversations, knowledge, actions and metrics. "
        'Authenticate with "Authorization: Api-Key <key>" (manage.py create_api_key). '
        "Errors are RFC 9457 problems (application/problem+json)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and docs describe the API, not a company's data: readable without a key.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.api.schema.problem_responses_add",
    ],
    "ENUM_NAME_OVERRIDES": {
        "DocumentStatusEnum": "apps.knowledge.models.Document.Status",
        "MessageStatusEnum": "apps.conversations.models.Message.Status",
        "ActionStatusEnum": "apps.tools.models.ToolCallRecord.Status",
    },
}

# --- Agents and knowledge ---------------------------------------------------------------------

AGENT_DEFINITIONS_DIR = Path(env_str("JAMONO_AGENTS_DIR", str(BASE_DIR / "agents")))
STARTER_KNOWLEDGE_DIR = Path(
    env_str("JAMONO_STARTER_KNOWLEDGE_DIR", str(BASE_DIR / "knowledge_base"))
)
# Must match the embedding model's output (nomic-embed-text: 768). Fixed when the knowledge
# tables are created; changing it later means re-creating them and re-embedding.
EMBEDDING_DIMENSIONS = env_int("EMBEDDING_DIMENSIONS", 768)
KNOWLEDGE_MAX_FILE_BYTES = env_int("KNOWLEDGE_MAX_FILE_BYTES", 10 * 1024 * 1024)
# Reading a file (parse + chunk) runs in a child process under a budget: seconds of CPU and of
# wall clock, and memory beyond what the process already holds. A file over it is marked
# failed with the reason; its stored bytes stay, so a re-index can try again.
KNOWLEDGE_PARSE_TIME_LIMIT_S = float(env_str("KNOWLEDGE_PARSE_TIME_LIMIT_S", "60"))
KNOWLEDGE_PARSE_MEMORY_MB = env_int("KNOWLEDGE_PARSE_MEMORY_MB", 1024)
# A PDF's page contents may decompress to at most this many times its size (plus 1 MiB):
# text extraction costs time per decompressed byte, and a few KB can inflate to megabytes.
KNOWLEDGE_PDF_MAX_INFLATION = env_int("KNOWLEDGE_PDF_MAX_INFLATION", 20)
KNOWLEDGE_PDF_MAX_PAGES = env_int("KNOWLEDGE_PDF_MAX_PAGES", 2000)
KNOWLEDGE_EMBED_BATCH_SIZE = env_int("KNOWLEDGE_EMBED_BATCH_SIZE", 32)
# 320: recall@10 0.98 at 1 M chunks for a top-5 p95 of ~5 ms (benchmarks/vector_search.py).
KNOWLEDGE_HNSW_EF_SEARCH = env_int("KNOWLEDGE_HNSW_EF_SEARCH", 320)
# Chunks looked at for one question (both legs of the hybrid search give up to 40 each);
# the documents they belong to become the sources.
KNOWLEDGE_CANDIDATES = env_int("KNOWLEDGE_CANDIDATES", 80)
# Relevance = cosine similarity + share of the question's telling words (idf-weighted) a
# chunk holds. Sources must score KNOWLEDGE_MIN_SCORE and this share of the best source;
# calibrated with benchmarks/retrieval_eval.py (256-d wordllama model): re-run it when the
# embedding model changes, cosine scales differ between models.
KNOWLEDGE_MIN_SCORE = float(env_str("KNOWLEDGE_MIN_SCORE", "0.4"))
KNOWLEDGE_RELATIVE_CUTOFF = float(env_str("KNOWLEDGE_RELATIVE_CUTOFF", "0.8"))
# Documents (whole or in part) and earlier answers put in the prompt, at most.
KNOWLEDGE_MAX_SOURCES = env_int("KNOWLEDGE_MAX_SOURCES", 3)
KNOWLEDGE_MAX_MEMORY_SOURCES = env_int("KNOWLEDGE_MAX_MEMORY_SOURCES", 2)
# A document up to this size goes in whole; a longer one as its matched part and neighbours.
KNOWLEDGE_WHOLE_DOCUMENT_MAX_CHARS = env_int("KNOWLEDGE_WHOLE_DOCUMENT_MAX_CHARS", 6000)
KNOWLEDGE_LONG_DOCUMENT_MAX_CHARS = env_int("KNOWLEDGE_LONG_DOCUMENT_MAX_CHARS", 4000)

# --- Request bodies: refused (413) beyond these sizes, before they are read -------------------

# Slack events, admin forms and API calls are far smaller than this (Django's own default).
REQUEST_MAX_BODY_BYTES = env_int("JAMONO_REQUEST_MAX_BODY_BYTES", 2_621_440)
# Where documents are uploaded: a whole document plus room for its multipart framing, so that
# the knowledge upload's own size check, with its clearer answer, is the one that speaks.
_UPLOAD_MAX_BODY_BYTES = max(REQUEST_MAX_BODY_BYTES, KNOWLEDGE_MAX_FILE_BYTES + 1024 * 1024)
REQUEST_MAX_BODY_BYTES_BY_PATH = {
    "/api/v1/knowledge/documents/": _UPLOAD_MAX_BODY_BYTES,
    "/knowledge/": _UPLOAD_MAX_BODY_BYTES,
}

# --- Integrations (each documented in README) -------------------------------------------------

LLM_PROVIDER = env_str("LLM_PROVIDER", "ollama").lower()
# Adapters by name, loaded by dotted path so the contracts import no vendor package.
LLM_PROVIDER_BACKENDS = {
    "ollama": "apps.integrations.ollama.provider.OllamaProvider",
    "openai": "apps.integrations.openai.provider.OpenAIProvider",
}
# The chat platform behind apps.integrations.bases.chat: a callable team_id -> Chat.
CHAT_BACKEND = "apps.integrations.slack.chat.slack_chat_for_team"
# The same contract for questions asked in the browser (team id "web", apps.integrations.web).
WEB_CHAT_BACKEND = "apps.integrations.web.chat.web_chat_for_team"
OLLAMA_HOST = env_str("OLLAMA_HOST", "http://127.0.0.1:11434")
OPENAI_API_KEY = env_str("OPENAI_API_KEY")
OPENAI_BASE_URL = env_str("OPENAI_BASE_URL", "https://api.openai.com/v1")
LLM_TIMEOUT_S = env_int("LLM_TIMEOUT_S", 120)
# A streamed answer must start (and keep going) within this: a hung model then frees its
# worker slot after seconds, where LLM_TIMEOUT_S waits for a whole unstreamed answer.
LLM_FIRST_TOKEN_TIMEOUT_S = float(env_str("LLM_FIRST_TOKEN_TIMEOUT_S", "30"))
LLM_RETRY_BACKOFF_S = float(env_str("LLM_RETRY_BACKOFF_S", "0.5"))
LLM_EMBEDDING_MODEL = env_str("LLM_EMBEDDING_MODEL", "nomic-embed-text")

SLACK_API_URL = env_str("SLACK_API_URL", "https://slack.com/api/")
SLACK_SIGNING_SECRET = env_str("SLACK_SIGNING_SECRET")
SLACK_CLIENT_ID = env_str("SLACK_CLIENT_ID")
SLACK_CLIENT_SECRET = env_str("SLACK_CLIENT_SECRET")
SLACK_OAUTH_AUTHORIZE_URL = env_str(
    "SLACK_OAUTH_AUTHORIZE_URL", "https://slack.com/oauth/v2/authorize"
)
# Public URL of /slack/oauth_redirect as registered in the Slack app; empty: built from the
# request's host.
SLACK_OAUTH_REDIRECT_URL = env_str("SLACK_OAUTH_REDIRECT_URL")
SLACK_BOT_SCOPES = env_list(
    "SLACK_BOT_SCOPES",
    "app_mentions:read,channels:history,groups:history,im:history,mpim:history,chat:write,"
    # The thread status in assistant DMs, files (invites, reports), people's e-mail and time
    # zone (post-mortem invitations): what the chat contract offers beyond posting.
    # The members of a user group that may vote (usergroups:read).
    "commands,im:write,assistant:write,files:write,users:read,users:read.email,usergroups:read",
)
# Streaming answers edit the placeholder message at most this often (Slack rate limits
# chat.update at about one call per second per channel).
SLACK_UPDATE_INTERVAL_S = float(env_str("SLACK_UPDATE_INTERVAL_S", "1.0"))
SLACK_ROUTE_CACHE_S = float(env_str("SLACK_ROUTE_CACHE_S", "10"))
# Slack's Retry-After on a 429 is honoured (the call waits, then retries) up to this many
# seconds; a longer wait fails the call as "ratelimited" rather than block a worker.
SLACK_MAX_RETRY_AFTER_S = float(env_str("SLACK_MAX_RETRY_AFTER_S", "10"))
# How many earlier turns of a thread go into the prompt.
CONVERSATION_HISTORY_TURNS = env_int("CONVERSATION_HISTORY_TURNS", 10)
# A question claimed by a worker longer ago than this was abandoned (the worker died): the
# retry sweep takes it over. Longer than one answer can take (the LLM call and its retry).
ANSWER_CLAIM_TIMEOUT_S = env_int("ANSWER_CLAIM_TIMEOUT_S", 2 * LLM_TIMEOUT_S + 60)

# Defaults of `manage.py connect_jira` when its flags are left out; each tenant's connection
# (with its token encrypted) is what the agents use.
JIRA_URL = env_str("JIRA_URL")
JIRA_EMAIL = env_str("JIRA_EMAIL")
JIRA_API_TOKEN = env_str("JIRA_API_TOKEN")
JIRA_PROJECT = env_str("JIRA_PROJECT")
JIRA_TIMEOUT_S = float(env_str("JIRA_TIMEOUT_S", "10"))
# The trackers and calendars behind apps.integrations.bases, loaded by dotted path.
TICKETING_BACKEND = "apps.integrations.jira.ticketing.JiraTicketing"
CALENDAR_BACKEND = "apps.integrations.ical.invites.IcalCalendar"

# --- Self-serve sign-up on the public site ---------------------------------------------------

# False: /signup/ is closed (companies are added by operators with `add_tenant`).
SIGNUP_OPEN = env_bool("JAMONO_SIGNUP_OPEN", True)
# Sign-ups one client address may start per hour (each creates a schema: not free).
SIGNUPS_PER_ADDRESS_PER_HOUR = env_int("JAMONO_SIGNUPS_PER_ADDRESS_PER_HOUR", 5)

# --- E-mail (post-mortem invitations): printed on the console unless an SMTP host is set --------

EMAIL_HOST = env_str("JAMONO_EMAIL_HOST")
EMAIL_PORT = env_int("JAMONO_EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("JAMONO_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_str("JAMONO_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("JAMONO_EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 10
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env_str("JAMONO_EMAIL_FROM", "jamono@localhost")

# --- Tools: what agents may do, and their limits ----------------------------------------------

# Model ↔ tool round trips for one answer, at most.
TOOL_LOOP_MAX_STEPS = env_int("TOOL_LOOP_MAX_STEPS", 5)
# A tool's output goes back to the model cut to this many characters.
TOOL_RESULT_MAX_CHARS = env_int("TOOL_RESULT_MAX_CHARS", 4000)
# A transient failure (tracker down, 429, 5xx) is retried this many times, waiting
# TOOL_RETRY_BACKOFF_S, then twice that, …; then the call is kept and retried by a task.
TOOL_RETRY_ATTEMPTS = env_int("TOOL_RETRY_ATTEMPTS", 3)
TOOL_RETRY_BACKOFF_S = float(env_str("TOOL_RETRY_BACKOFF_S", "1.0"))
# Sandboxed checks (http_probe, tls_certificate_check, dns_lookup).
PROBE_TIMEOUT_S = float(env_str("PROBE_TIMEOUT_S", "5"))
PROBE_MAX_BODY_BYTES = env_int("PROBE_MAX_BODY_BYTES", 256 * 1024)
PROBE_MAX_REDIRECTS = env_int("PROBE_MAX_REDIRECTS", 5)
# Where dns_lookup asks (comma-separated IP addresses); empty: the system's resolvers.
DNS_NAMESERVERS = env_list("JAMONO_DNS_NAMESERVERS")

# --- Logging: secrets are scrubbed from every record, whatever the level ----------------------

LOG_LEVEL = env_str("JAMONO_LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "apps.core.logging.SecretRedactingFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "pgserver": {"level": "WARNING"},
        # Damaged PDFs are reported as skipped files; pypdf's own warnings would repeat it.
        "pypdf": {"level": "ERROR"},
        # Every login attempt's bookkeeping is INFO; failures and lockouts are warnings.
        "axes": {"level": "WARNING"},
        # uvicorn's loggers come with handlers of their own, unfiltered, and its access log
        # writes whole query strings (invitation tokens, OAuth codes). Configured here, when
        # the web process loads Django, they write through the scrubbing console instead; no
        # level given, so uvicorn's --log-level still applies (and not their parent "uvicorn":
        # configuring it would reset its children's levels).
        "uvicorn.error": {"handlers": ["console"], "propagate": False},
        "uvicorn.access": {"handlers": ["console"], "propagate": False},
    },
}

# WhiteNoise serves static files through a sync iterator; under ASGI Django warns on every
# file. The files are small and served correctly, so the warning is noise.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous")
