#!/usr/bin/env bash
# Scheduled checks: configuration drift of the CRMs and a recorded conformance run with a JUnit report.
# Both CI files in this folder run this script; tests/test_ci_kit.py runs it against the local fake CRM.
#
#   scheduled.sh SOURCE [OUT_DIR]
#
# SOURCE: where CRM data is read (folder, postgresql://..., spark, salesforce, hubspot).
# Environment: PLAYBOOK (default `playbook`), PLAYBOOK_PROCESS (playbook folder), PLAYBOOK_DRIFT
# (CRMs to compare, default "salesforce"; empty for none), PLAYBOOK_RESULTS (folder of recorded runs,
# default OUT_DIR/results). CRM credentials as `playbook drift` documents them.
# Exit 0 when nothing drifted and every rule is within its threshold; else the worst exit code seen.
set -uo pipefail

source_spec="${1:?usage: scheduled.sh SOURCE [OUT_DIR]}"
out="${2:-playbook-scheduled}"
pb="${PLAYBOOK:-playbook}"
results="${PLAYBOOK_RESULTS:-$out/results}"
mkdir -p "$out"
status=0

process_arg=()
conform_args=()
if [ -n "${PLAYBOOK_PROCESS:-}" ]; then
  process_arg=("$PLAYBOOK_PROCESS")
  conform_args=(--playbook "$PLAYBOOK_PROCESS")
fi

worst() { [ "$1" -gt "$status" ] && status="$1"; return 0; }

for crm in ${PLAYBOOK_DRIFT-salesforce}; do
  "$pb" drift "$crm" --format json "${process_arg[@]}" >"$out/drift-$crm.json"
  worst $?
done

# `--record` keeps every run (rule counts, playbook version, clock) for `playbook trend` and the site.
"$pb" conform --source "$source_spec" --record "$results" --junit "$out/conformance.xml" \
  --json "$out/conformance.json" --markdown "$out/conformance.md" "${conform_args[@]}"
worst $?
exit "$status"
