"""The library pages: metrics (list and type-driven forms), layers and API keys."""
