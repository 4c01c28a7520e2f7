"""Writes to the control plane. Views, APIs, forms and tasks call these; they hold the rules."""
