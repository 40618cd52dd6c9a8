"""What-if: both revisions' checks over one data snapshot, as counts for a pull request."""
