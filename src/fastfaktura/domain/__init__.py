"""The domain: aggregates, their events and rules. Pure: no I/O, no clock, no framework."""
