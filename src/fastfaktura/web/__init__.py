"""Pages for people rather than programs: the public invoice page (HTML, in the client's locale)."""
