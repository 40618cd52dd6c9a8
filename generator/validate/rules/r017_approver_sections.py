from __future__ import annotations

from ...model import SECTIONS
from . import did_you_mean, Finding, rule


@rule("R017", "approvers-unknown-section")
def check(model, ctx):
    """Keys of `playbook.approvers` are section names (or `default`).

    Approvals are checked per changed section; a key that names no section
    protects nothing.

    Bad:

        playbook:
          approvers:
            scorring: [ana]

    Good:

        playbook:
          approvers:
            default: [ana]
            scoring: [ana, ben]
    """
    allowed = ("default",) + SECTIONS
    for key in model.playbook.approvers:
        if key not in allowed:
            yield Finding(("playbook", "approvers", key), f"approvers key {key!r} is not a section name",
                          did_you_mean(key, allowed) or "use a top-level section name or `default`", key=True)
