from __future__ import annotations

from . import Finding, rule


@rule("R024", "semantic-field-missing")
def check(model, ctx):
    """The lead fields the stages rely on exist, found by their semantic tag.

    Stages need a lead field tagged `stage`; closed stages need one tagged
    `closure_reason`; stages with `reason_note_required` need one tagged
    `reason_note`. Without them the CRM export and the data checks have no
    column to use.

    Bad:

        stages:
          - {id: closed-lost, terminal: true, closed: true, reason_note_required: true}
        fields: []

    Good:

        fields:
          - {id: lead-stage, type: enum, semantic: stage}
          - {id: closure-reason, type: enum, semantic: closure_reason}
          - {id: reason-note, type: text, semantic: reason_note}
    """
    present = {f.semantic for f in model.fields if f.record == "lead" and f.semantic}
    needs: list[tuple[str, int, str]] = []
    if model.stages:
        needs.append(("stage", 0, "stages exist"))
    closed = next((i for i, s in enumerate(model.stages) if s.closed), None)
    if closed is not None:
        needs.append(("closure_reason", closed, f"stage {model.stages[closed].id!r} is closed"))
    noted = next((i for i, s in enumerate(model.stages) if s.reason_note_required), None)
    if noted is not None:
        needs.append(("reason_note", noted, f"stage {model.stages[noted].id!r} requires a reason note"))
    for semantic, i, why in needs:
        if semantic not in present:
            yield Finding(("stages", i, "id"), f"no lead field is tagged `semantic: {semantic}`, but {why}",
                          f"add the field to `fields:` with `semantic: {semantic}`")
