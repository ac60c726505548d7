"""Ingest: the small processing steps every record passes before the store."""
