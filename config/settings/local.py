"""Settings for a developer machine: debug on and a fixed development key unless overridden."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "verdict-local-development-key-not-for-production"  # noqa: F405
