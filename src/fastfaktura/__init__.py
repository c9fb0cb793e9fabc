"""FastFaktura: an event-sourced invoicing service."""

__version__ = "0.1.0"
