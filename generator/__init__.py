"""playbook: a healthcare lead-management process as code."""

__version__ = "0.1.0"
