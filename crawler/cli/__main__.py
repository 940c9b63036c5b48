"""`python -m crawler.cli` runs the `crawler` command (for environments without the console script)."""

from crawler.cli.main import cli

cli()
