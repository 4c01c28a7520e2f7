"""The guided form that creates and edits experiments, in five steps on one page."""
