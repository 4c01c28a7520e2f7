"""Settings for the test suite: the database comes from DATABASE_URL (SQLite by default)."""

from .base import *  # noqa: F403

SECRET_KEY = "verdict-test-key"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = ["*"]
