"""A stateful Microsoft Graph v1.0/beta simulator, served over real HTTP (see docs/ARCHITECTURE.md)."""
