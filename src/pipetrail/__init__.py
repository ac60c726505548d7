"""Pipetrail: audit logging and monitoring for ETL jobs.

The package follows the data path: ``model`` (records) → ``store`` (durable state)
→ ``trail``/``logs``/``metrics`` → ``runner`` → ``actions`` (the operations shared by
the CLI and the server) → ``cli``.
"""

__version__ = "0.1.0"
