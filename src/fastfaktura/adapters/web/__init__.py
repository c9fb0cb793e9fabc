"""Pages for people rather than programs: the public invoice page and the public error page
(HTML, in the reader's language)."""
