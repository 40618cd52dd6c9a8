"""How CRM objects and fields map to the data contract, from the model's `names`.

A data-dictionary field names its CRM field in `names.salesforce` /
`names.hubspot`. A name written `Object.Field` also says which object holds the
record kind (e.g. `Appointment__c.Stage__c`). Fields without a CRM name fall
back to the CRM's standard field for their `semantic` (Salesforce `Lead.Status`
for the stage, HubSpot `hs_timestamp` for when an activity happened, ...);
fields with neither come through as empty columns and are listed in
`Mapping.unmapped` so a run can say which columns were not pulled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...model import DataField, Playbook
from ...export.mapping import in_hubspot

CONTRACT_TABLE = {"lead": "leads", "activity": "activities", "stage_history": "stage_history", "appointment": "appointments"}


@dataclass(frozen=True)
class ColumnMap:
    column: str  # contract column
    field_id: str
    type: str
    semantic: str | None
    crm_field: str | None  # None: not pulled (or derived by the puller)
    values: dict[str, str] = field(default_factory=dict)  # lowercased CRM value/label -> playbook value


@dataclass
class Mapping:
    record: str
    table: str
    object: str
    columns: list[ColumnMap]
    unmapped: list[str] = field(default_factory=list)

    def by_semantic(self, semantic: str) -> ColumnMap | None:
        return next((c for c in self.columns if c.semantic == semantic), None)

    def crm_fields(self) -> list[str]:
        out: list[str] = []
        for c in self.columns:
            if c.crm_field and c.crm_field not in out:
                out.append(c.crm_field)
        return out

    def types(self) -> dict[str, str]:
        return {c.column: c.type for c in self.columns}


def _values_map(f: DataField) -> dict[str, str]:
    # Map CRM picklist spellings ("Call", "Left voicemail") onto playbook values ("call", "left-voicemail").
    out: dict[str, str] = {}
    for v in f.allowed_values:
        for key in (v.value, v.label, v.value.replace("-", " "), v.value.replace("_", " ")):
            out.setdefault(key.strip().lower(), v.value)
    return out


def build_mapping(
    model: Playbook,
    record: str,
    crm: str,
    default_object: str,
    defaults: dict[str, str],
    derived: frozenset[str] = frozenset(),
) -> Mapping:
    """The mapping of one record kind for one CRM (`salesforce` | `hubspot`)."""
    obj = default_object
    columns: list[ColumnMap] = []
    unmapped: list[str] = []
    for f in model.fields:
        if f.record != record:
            continue
        name: str | None = getattr(f.names, crm)
        if name and "." in name:
            obj, name = name.split(".", 1)
        if not name and f.semantic not in derived and (crm != "hubspot" or in_hubspot(f)):
            # Health information without an explicit HubSpot name is never in HubSpot: don't ask for it.
            name = defaults.get(f.semantic or "")
        column = f.names.warehouse or f.id
        if not name and f.semantic not in derived:
            unmapped.append(column)
        # Stage columns keep the CRM's own values (the contract compares them with each stage's
        # crm_value); activity types are the playbook's kinds, so CRM spellings are translated.
        values = _values_map(f) if f.semantic == "activity_type" else {}
        columns.append(ColumnMap(column, f.id, f.type, f.semantic, name, values))
    return Mapping(record, CONTRACT_TABLE[record], obj, columns, unmapped)


def map_value(col: ColumnMap, value: Any) -> Any:
    """A CRM value, translated to the playbook's spelling where the field lists allowed values."""
    if value is None or not col.values or not isinstance(value, str):
        return value
    return col.values.get(value.strip().lower(), value)
