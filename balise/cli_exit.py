"""What every command module answers with: the exit codes, and the usage error (exit 2).

Imported by cli, cli_social and cli_deploy; it imports none of them (nor anything else).
"""

from __future__ import annotations

EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_NETWORK = 0, 1, 2, 3


class UsageError(Exception):
    """A command-line value is wrong (exit 2)."""
