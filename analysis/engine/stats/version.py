"""Version of the statistics engine, stored with every result snapshot."""

ENGINE_VERSION = "1.1.0"
