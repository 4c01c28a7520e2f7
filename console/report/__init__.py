"""Analyst-facing web pages that need the statistics engine (the sample-size calculator)."""
