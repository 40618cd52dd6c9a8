"""Salesforce export: goldens, documented element names only, determinism, escaping."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from golden_files import check_tree

from generator.cli import run
from generator.export import salesforce
from generator.export.mapping import api_name, build_spec, id_api_name
from generator.validate import load_playbook

HERE = Path(__file__).parent
FIXTURE = HERE / "fixtures" / "export" / "clinic"
GOLDEN = HERE / "golden" / "export"
NS = "{http://soap.sforce.com/2006/04/metadata}"

# Element names each metadata type may contain, anywhere below its root, as
# documented in the Metadata API Developer Guide for the type and its
# subtypes (CustomValue/StandardValue, ValueSet, RuleEntry, FilterItem,
# MatchingRuleItem, DuplicateRuleMatchRule, FlowStart, FlowScheduledPath,
# FlowDecision, FlowRule, FlowCondition, FlowRecordUpdate, FlowRecordCreate,
# FlowInputFieldAssignment, FlowElementReferenceOrValue, FlowRecordFilter,
# FlowConnector, PathAssistantStep, PackageTypeMembers).
ALLOWED: dict[str, set[str]] = {
    "Package": {"types", "members", "name", "version"},
    "StandardValueSet": {"sorted", "standardValue", "fullName", "default", "label", "converted", "closed",
                         "description", "isActive", "groupingString", "groupingStringEnum"},
    "CustomObject": {"enableHistory", "fullName", "label", "description"},
    "CustomField": {"fullName", "label", "description", "inlineHelpText", "externalId", "trackHistory", "type",
                    "required", "defaultValue", "length", "visibleLines", "precision", "scale", "unique",
                    "valueSet", "restricted", "valueSetDefinition", "sorted", "value", "default",
                    "complianceGroup", "securityClassification", "referenceTo", "relationshipName",
                    "deleteConstraint"},
    "ValidationRule": {"fullName", "active", "description", "errorConditionFormula", "errorDisplayField",
                       "errorMessage"},
    "Queue": {"fullName", "doesSendEmailToMembers", "email", "name", "queueMembers", "queueSobject",
              "sobjectType"},
    "AssignmentRules": {"assignmentRule", "fullName", "active", "ruleEntry", "assignedTo", "assignedToType",
                        "booleanFilter", "criteriaItems", "field", "operation", "value", "valueField", "formula",
                        "notifyCcRecipients", "overrideExistingTeams", "team", "template"},
    "MatchingRules": {"matchingRules", "fullName", "booleanFilter", "description", "label", "matchingRuleItems",
                      "blankValueBehavior", "fieldName", "matchingMethod", "ruleStatus"},
    "DuplicateRule": {"actionOnInsert", "actionOnUpdate", "alertText", "description", "duplicateRuleFilter",
                      "duplicateRuleMatchRules", "matchRuleSObjectType", "matchingRule", "objectMapping",
                      "isActive", "masterLabel", "operationsOnInsert", "operationsOnUpdate", "securityOption",
                      "sortOrder"},
    "Flow": {"apiVersion", "description", "interviewLabel", "label", "processType", "start", "status",
             "decisions", "recordUpdates", "recordCreates", "locationX", "locationY", "object",
             "recordTriggerType", "triggerType", "filterLogic", "filters", "field", "operator", "value",
             "stringValue", "booleanValue", "numberValue", "elementReference", "dateTimeValue",
             "doesRequireRecordChangedToMeetCriteria", "scheduledPaths", "name", "connector", "targetReference",
             "offsetNumber", "offsetUnit", "timeSource", "recordField", "maxBatchSize", "pathType",
             "defaultConnector", "defaultConnectorLabel", "rules", "conditionLogic", "conditions",
             "leftValueReference", "rightValue", "inputAssignments", "inputReference",
             "storeOutputAutomatically", "faultConnector"},
    "PathAssistant": {"active", "entityName", "fieldName", "masterLabel", "pathAssistantSteps", "fieldNames",
                      "info", "picklistValueName", "recordTypeName"},
}
# Closed value lists from the same documentation.
ENUMS = {
    ("CustomField", "type"): {"Text", "LongTextArea", "Email", "Phone", "Picklist", "MultiselectPicklist",
                              "Checkbox", "Number", "Date", "DateTime", "Url"},
    ("CustomField", "securityClassification"): {"Public", "Internal", "Confidential", "Restricted",
                                                "MissionCritical"},
    ("AssignmentRules", "operation"): {"equals", "notEqual", "lessThan", "greaterThan", "lessOrEqual",
                                       "greaterOrEqual", "contains", "notContain", "startsWith", "includes",
                                       "excludes", "within"},
    ("MatchingRules", "matchingMethod"): {"Exact", "FirstName", "LastName", "CompanyName", "Phone", "City",
                                          "Street", "Zip", "Title"},
    ("Flow", "offsetUnit"): {"Minutes", "Hours", "Days", "Months"},
    ("Flow", "timeSource"): {"RecordField", "RecordTriggerEvent"},
    ("Flow", "triggerType"): {"RecordBeforeSave", "RecordAfterSave", "RecordBeforeDelete", "Scheduled"},
    ("Flow", "recordTriggerType"): {"Create", "Update", "CreateAndUpdate", "Delete"},
    ("DuplicateRule", "actionOnInsert"): {"Allow", "Block"},
    ("DuplicateRule", "operationsOnInsert"): {"Alert", "Report"},
}


DEFAULT = HERE.parent / "process" / "lead-management"


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return salesforce.render(build_spec(load_playbook(FIXTURE)))


@pytest.fixture(scope="module")
def default_files() -> dict[str, bytes]:
    return salesforce.render(build_spec(load_playbook(DEFAULT)))


def _tag(el: ET.Element) -> str:
    return el.tag.replace(NS, "")


def compare_golden(files: dict[str, bytes], golden: Path) -> None:
    """Compare rendered files with a golden folder, or rewrite it under `make golden`."""
    check_tree(golden, files)


def test_salesforce_export_matches_golden(files):
    compare_golden(files, GOLDEN / "clinic" / "salesforce")


def test_default_playbook_salesforce_export_matches_golden(default_files):
    compare_golden(default_files, GOLDEN / "lead-management" / "salesforce")


@pytest.mark.parametrize("which", ["files", "default_files"])
def test_every_xml_parses_and_uses_only_documented_elements(which, request):
    files = request.getfixturevalue(which)
    xml_files = [p for p in files if p.endswith(".xml")]
    assert len(xml_files) > 10
    for rel in xml_files:
        root = ET.fromstring(files[rel])
        kind = _tag(root)
        assert root.tag.startswith(NS), rel
        assert kind in ALLOWED, f"{rel}: undocumented root {kind}"
        for el in root.iter():
            if el is root:
                continue
            tag = _tag(el)
            assert tag in ALLOWED[kind], f"{rel}: <{tag}> is not a documented {kind} element"
            if (kind, tag) in ENUMS and len(el) == 0:
                assert el.text in ENUMS[(kind, tag)], f"{rel}: <{tag}>{el.text}</{tag}> is not a documented value"


@pytest.mark.parametrize("which", ["files", "default_files"])
def test_file_names_and_api_names_are_valid(which, request):
    files = request.getfixturevalue(which)
    import re

    for rel, data in files.items():
        if not rel.endswith(".xml"):
            continue
        root = ET.fromstring(data)
        for el in root.iter(f"{NS}fullName"):
            if _tag(root) in ("StandardValueSet", "CustomField") and el is not root.find(f"{NS}fullName"):
                continue  # picklist values are labels, not API names
            name = el.text.removesuffix("__c")
            if _tag(root) == "StandardValueSet":
                continue
            assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*", name), (rel, name)
            assert len(name) <= 40, (rel, name)


def test_api_name_sanitizing_rules():
    assert api_name("closure reason!!") == "closure_reason"
    assert api_name("__9 lives__") == "X_9_lives"
    assert api_name("a--b__c") == "a_b_c"
    long = api_name("x" * 80)
    assert len(long) <= 40 and not long.endswith("_") and "__" not in long
    assert api_name("x" * 80) == long  # stable
    assert api_name("x" * 80 + "a") != api_name("x" * 80 + "b")
    assert id_api_name("closure-reason") == "Closure_Reason"


def test_export_is_deterministic_and_written_atomically(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run(["export", "salesforce", "--out", str(a), str(FIXTURE)]) == 0
    assert run(["export", "salesforce", "--out", str(b), str(FIXTURE)]) == 0
    tree = lambda root: {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}  # noqa: E731
    assert tree(a) == tree(b)
    # Re-export over an existing export replaces it whole.
    (a / "force-app" / "stale.txt").write_text("old")
    assert run(["export", "salesforce", "--out", str(a), str(FIXTURE)]) == 0
    assert not (a / "force-app" / "stale.txt").exists()
    # A folder that is not an export is never overwritten.
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep")
    assert run(["export", "salesforce", "--out", str(other), str(FIXTURE)]) == 2
    assert (other / "notes.txt").read_text() == "keep"
    assert "refusing to overwrite" in capsys.readouterr().err


def test_hostile_text_is_escaped_not_markup(files):
    field = files["force-app/main/default/objects/Lead/fields/Consent_To_Contact__c.field-meta.xml"].decode()
    assert "<script>" not in field and "&lt;script&gt;" in field
    root = ET.fromstring(files["force-app/main/default/objects/Lead/fields/Consent_To_Contact__c.field-meta.xml"])
    assert root.findtext(f"{NS}description") == "The person agreed to be contacted <script>alert(1)</script>."
    path = ET.fromstring(files["force-app/main/default/pathAssistants/Playbook_path_clinic.pathAssistant-meta.xml"])
    infos = [el.text for el in path.iter(f"{NS}info")]
    # Path guidance is rich text: the HTML it carries is escaped once more inside the XML.
    assert any("&lt;a href=&#x27;javascript:alert(1)&#x27;&gt;" in i for i in infos)
    assert not any("<a href" in i for i in infos)
    source = ET.fromstring(files["force-app/main/default/standardValueSets/LeadSource.standardValueSet-meta.xml"])
    assert "Referral & <Partner>" in [el.text for el in source.iter(f"{NS}fullName")]


def test_validation_rules_follow_the_stages(files):
    rule = ET.fromstring(files[
        "force-app/main/default/objects/Lead/validationRules/Stage_qualified_requires_fields.validationRule-meta.xml"])
    formula = rule.findtext(f"{NS}errorConditionFormula")
    assert formula == ('AND(ISPICKVAL(Status, "Qualified"), OR(ISBLANK(TEXT(Specialty__c)), '
                       'ISBLANK(TEXT(Region__c)), NOT(Consent_To_Contact__c)))')
    closed = ET.fromstring(files[
        "force-app/main/default/objects/Lead/validationRules/Closure_reason_required.validationRule-meta.xml"])
    assert closed.findtext(f"{NS}errorConditionFormula") == (
        'AND(ISPICKVAL(Status, "Closed - Lost"), ISBLANK(TEXT(Closure_Reason__c)))')


def test_assignment_rule_entries_follow_routing_order_with_fallback_last(files):
    root = ET.fromstring(files["force-app/main/default/assignmentRules/Lead.assignmentRules-meta.xml"])
    entries = root.findall(f"{NS}assignmentRule/{NS}ruleEntry")
    assert [e.findtext(f"{NS}assignedTo") for e in entries] == ["Cardiology_Queue", "General_Queue", "General_Queue"]
    assert entries[0].findtext(f"{NS}criteriaItems/{NS}field") == "Lead.Specialty__c"
    assert entries[-1].find(f"{NS}criteriaItems") is None


def test_lead_status_marks_converted_and_default(files):
    root = ET.fromstring(files["force-app/main/default/standardValueSets/LeadStatus.standardValueSet-meta.xml"])
    values = {v.findtext(f"{NS}fullName"): (v.findtext(f"{NS}converted"), v.findtext(f"{NS}default"))
              for v in root.findall(f"{NS}standardValue")}
    assert values["Appointment scheduled"] == ("true", "false")
    assert values["Open - Not Contacted"] == ("false", "true")
    assert list(values) == ["Open - Not Contacted", "Qualified", "Appointment scheduled", "In treatment",
                            "Closed - Lost"]


def test_sfdx_project_and_manifest(files):
    project = json.loads(files["sfdx-project.json"])
    assert project["packageDirectories"] == [{"default": True, "path": "force-app"}]
    manifest = ET.fromstring(files["manifest/package.xml"])
    members = {(t.findtext(f"{NS}name"), m.text) for t in manifest.findall(f"{NS}types")
               for m in t.findall(f"{NS}members")}
    assert ("Flow", "Playbook_SLA_first_call") in members
    assert ("CustomField", "Lead.Specialty__c") in members
    assert ("Queue", "Cardiology_Queue") in members
    # every metadata file is in the manifest, and so is each rule inside the two files holding several
    # (tests/test_sfdx.py compares the whole manifest with the component set Salesforce's SDR resolves)
    rules = sum(1 for t, _ in members if t in ("AssignmentRule", "MatchingRule"))
    assert rules == 4
    assert len(members) == sum(1 for p in files if p.startswith("force-app/")) + rules


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=120))
def test_api_name_is_always_a_valid_salesforce_name(text):
    import re

    name = api_name(text)
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*", name), name
    assert len(name) <= 40
    assert api_name(text) == name


def test_failed_write_leaves_the_previous_export_untouched(tmp_path, monkeypatch):
    from generator.export.writer import write_tree

    out = tmp_path / "sf"
    write_tree(out, {"sfdx-project.json": b"old", "a/b.xml": b"<old/>"}, "sfdx-project.json")
    real = Path.write_bytes
    calls = {"n": 0}

    def flaky(self, data):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", flaky)
    with pytest.raises(OSError, match="disk full"):
        write_tree(out, {"sfdx-project.json": b"new", "a/b.xml": b"<new/>"}, "sfdx-project.json")
    monkeypatch.undo()
    assert (out / "sfdx-project.json").read_bytes() == b"old"
    assert (out / "a" / "b.xml").read_bytes() == b"<old/>"
    assert [p.name for p in tmp_path.iterdir()] == ["sf"]  # no temp folder left behind


def test_two_entities_with_one_crm_name_are_a_usage_error(tmp_path, capsys):
    import shutil

    from generator.cli import run

    copy = tmp_path / "pb"
    shutil.copytree(FIXTURE, copy)
    stages = copy / "stages.yaml"
    stages.write_text(stages.read_text().replace("    crm_value: Closed - Lost\n", "    crm_value: qualified\n"))
    assert run(["export", "salesforce", "--out", str(tmp_path / "out"), str(copy)]) == 2
    err = capsys.readouterr().err
    assert "both map to the CRM name 'qualified'" in err
    assert not (tmp_path / "out").exists()


def test_unusable_explicit_crm_names_are_a_usage_error(tmp_path, capsys):
    import shutil

    from generator.cli import run

    copy = tmp_path / "pb"
    shutil.copytree(FIXTURE, copy)
    fields = copy / "fields.yaml"
    fields.write_text(fields.read_text().replace("salesforce: Condition__c, hubspot: condition",
                                                 "salesforce: ../../evil__c, hubspot: Bad Name"))
    assert run(["export", "salesforce", "--out", str(tmp_path / "out"), str(copy)]) == 2
    err = capsys.readouterr().err
    assert "'../../evil__c' is not a Salesforce field API name" in err
    assert "'Bad Name' is not a HubSpot property name" in err
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil__c.field-meta.xml").exists()
