"""Spark: live monitoring of a PySpark job's application (``live``)."""
