"""The HTTP API (Litestar): controllers, msgspec schemas, auth, and problem+json errors."""
