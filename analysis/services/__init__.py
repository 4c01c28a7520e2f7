"""Services of the analysis pipeline: snapshots, decisions, health checks, notifications."""
