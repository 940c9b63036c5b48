"""Monitoring: the age-decay schedule, the watch list, discovery, run-over-run checks, `crawler run`."""
