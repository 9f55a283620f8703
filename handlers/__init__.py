"""Channel-agnostic conversation: Inbound -> list[Outbound]."""

__all__: list[str] = []
