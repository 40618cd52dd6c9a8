"""Audit history: the playbook at any revision, semantic diffs, approvals, releases."""
