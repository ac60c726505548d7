"""The audit trail: recording audit and data events, lookup."""
