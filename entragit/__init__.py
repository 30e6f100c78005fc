"""entragit: git as the source of truth for Microsoft Entra ID configuration."""

__version__ = "0.1.0"
