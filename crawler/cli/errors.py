"""Exit codes and one-line errors of the `crawler` command.

| code | meaning |
|------|---------|
| 0    | done (a crawl: every URL fetched and stored) |
| 1    | the work failed: a URL could not be fetched (HTTP error, refused or unreachable host), a crawl
|        did not finish, or the thing named (article, run, watch-list entry, database) does not exist |
| 2    | bad input: an unknown option, a malformed value (`--every 0m`, `-s FOO`, `--port 99999`) |
| 3    | environment fault: the database is not usable (corrupt, a directory, its folder missing), a port
|        is taken |
| 75   | another `crawler run` holds the database's lock (try again later) |
| 130  | interrupted (Ctrl+C) |

Each of them prints one `Error: …` line on stderr, never a traceback.
"""

from __future__ import annotations

import click

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3
EXIT_LOCKED = 75
EXIT_INTERRUPTED = 130


class EnvironmentFault(click.ClickException):
    """The machine, not the input, is wrong: an unusable database file, a port in use."""

    exit_code = EXIT_ENVIRONMENT
