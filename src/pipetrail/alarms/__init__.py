"""Alarms with CloudWatch semantics: metric alarms (M of N, missing data), composite
alarm rules, and anomaly-detection bands. Pure code: storing alarms and running the
evaluations on a schedule belong to the layers above."""
