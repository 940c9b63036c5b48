"""Item pipelines, one job each: clean (100) -> validate (200) -> dedupe (300) -> store (900)."""
