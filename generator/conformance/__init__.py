"""Conformance: checks that CRM data follows the playbook, compiled to SQL and run where the data lives."""
