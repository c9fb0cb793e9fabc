"""Policies: the workers that follow what was recorded and act through the application (the
delivery and payments workers, the overdue sweep), their shared locked loop, and their start-up
(start.py). Start them through `fastfaktura.policies.start`; this package imports nothing."""
