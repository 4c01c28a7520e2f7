"""The experiments list and the experiment page: header, tabs (overview, Try it, QA overrides,
audit log, integrate), lifecycle actions. The Results tab is ``console.report``."""
