"""Settings for a developer machine: debug on and a fixed development key unless overridden."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = SECRET_KEY or "verdict-local-development-key-not-for-production"  # noqa: F405
