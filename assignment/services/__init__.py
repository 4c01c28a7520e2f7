"""Runtime services: assignment, exposures and event ingestion."""
