"""The running program: config, CLI, HTTP server, channel adapters."""

__all__: list[str] = []
