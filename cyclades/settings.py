"""Django settings, built from :mod:`cyclades.conf` (defaults, operator file, env).

Operators never edit this file: they set ``CYCLADES_*`` variables or write
``/etc/cyclades/settings.py`` (see ``conf/settings.example.py``).
"""

from __future__ import annotations

import os

import dj_database_url

from cyclades import conf, logs

CYCLADES = conf.load()

DEBUG = CYCLADES["DEBUG"]
SECRET_KEY = CYCLADES["SECRET_KEY"]
ALLOWED_HOSTS = CYCLADES["ALLOWED_HOSTS"]
DATA_DIR = CYCLADES["DATA_DIR"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "logic",
    "api",
    "ui",
]

MIDDLEWARE = [
    "api.metrics.RequestTimingMiddleware",
    "api.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "cyclades.urls"
WSGI_APPLICATION = "cyclades.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

if CYCLADES["DATABASE_URL"].startswith("sqlite:"):
    db_path = CYCLADES["DATABASE_URL"].split("sqlite://", 1)[1]
    if db_path.startswith("/") and db_path != "/:memory:":
        os.makedirs(os.path.dirname(db_path), exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        CYCLADES["DATABASE_URL"], conn_max_age=CYCLADES["DATABASE_CONN_MAX_AGE"], conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several threads/processes share the file in all-in-one mode: wait for locks.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 30, "transaction_mode": "IMMEDIATE"})

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
STATIC_URL = "/static/"
STATIC_ROOT = os.path.join(DATA_DIR, "static")

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "api.faults.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "api.negotiation.BlankAcceptMeansAny",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Cyclades API",
    "DESCRIPTION": "OpenStack-compatible identity, compute, image and network APIs over Ganeti.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.openapi.add_openstack_details"],
}

LOGGING = logs.logging_config(CYCLADES["LOG_FORMAT"], CYCLADES["LOG_LEVEL"])

AUTH_USER_MODEL = "logic.User"
# Users are unique per domain, not globally; authentication is ours (logic.identity).
SILENCED_SYSTEM_CHECKS = ["auth.E003"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
