#!/usr/bin/env bash
# Pull-request checks of a playbook change, composed into ONE comment (comment.md).
# Both CI files in this folder run this script; tests/test_ci_kit.py runs it in a temporary repository.
#
#   pr-check.sh BASE HEAD [SNAPSHOT] [OUT_DIR]
#
# BASE, HEAD  commits of the pull request (HEAD checked out); SNAPSHOT: the data `whatif` replays
# (a folder of CSV/Parquet exports, postgresql://..., spark, salesforce or hubspot). Without one,
# demo data is generated from HEAD's playbook and the comment says so.
# Environment: PLAYBOOK (the command, default `playbook`), PLAYBOOK_PROCESS (the playbook folder,
# default: the one under process/), PLAYBOOK_AS_OF (clock for SLAs), PLAYBOOK_WHATIF_FAIL_ON
# (space-separated limits such as "moved>500 newly-violating>0").
# Exit 0 when every step passed, 1 when one failed or a limit was exceeded; comment.md is written either way.
set -uo pipefail

base="${1:?usage: pr-check.sh BASE HEAD [SNAPSHOT] [OUT_DIR]}"
head="${2:?usage: pr-check.sh BASE HEAD [SNAPSHOT] [OUT_DIR]}"
snapshot="${3:-}"
out="${4:-playbook-pr}"
pb="${PLAYBOOK:-playbook}"
mkdir -p "$out"
status=0
steps=()

process_args=()
validate_args=()
if [ -n "${PLAYBOOK_PROCESS:-}" ]; then
  process_args=(--process "$PLAYBOOK_PROCESS")
  validate_args=("$PLAYBOOK_PROCESS")
fi

# run NAME CMD...: output kept in OUT_DIR/NAME.{out,err}; a failure is recorded, never fatal here.
run() {
  local name="$1"; shift
  "$@" >"$out/$name.out" 2>"$out/$name.err"
  local rc=$?
  echo "$rc" >"$out/$name.rc"
  steps+=("$name:$rc")
  [ "$rc" -eq 0 ] || status=1
}

# 1. Located problems as annotations on the diff (printed to the log, where the CI host reads them).
run validate "$pb" validate --format github "${validate_args[@]}"
cat "$out/validate.out"
# 2. Reasons, approvals and signatures of the new commits only.
run history "$pb" history --since "$base" --strict --format markdown "${process_args[@]}"
# 3. The change in business terms.
run diff "$pb" diff "$base" "$head" --format markdown "${process_args[@]}"
# 4. What the change would do to past leads.
snapshot_note=""
if [ -z "$snapshot" ]; then
  snapshot="$out/demo-snapshot"
  demo_args=()
  [ -n "${PLAYBOOK_PROCESS:-}" ] && demo_args=(--playbook "$PLAYBOOK_PROCESS")
  "$pb" demo-data --out "$snapshot" --format parquet "${demo_args[@]}" >"$out/demo.out" 2>"$out/demo.err" || status=1
  snapshot_note="No data snapshot was configured: the what-if below ran on generated demo data."
  # the clock the demo data was generated for, so SLAs are judged as the data was meant
  if [ -z "${PLAYBOOK_AS_OF:-}" ] && [ -f "$snapshot/demo.json" ]; then
    PLAYBOOK_AS_OF="$(sed -n 's/.*"as_of": *"\([^"]*\)".*/\1/p' "$snapshot/demo.json")"
  fi
fi
whatif_args=()
for limit in ${PLAYBOOK_WHATIF_FAIL_ON:-}; do whatif_args+=(--fail-on "$limit"); done
[ -n "${PLAYBOOK_AS_OF:-}" ] && whatif_args+=(--as-of "$PLAYBOOK_AS_OF")
run whatif "$pb" whatif "$base" "$head" --source "$snapshot" --markdown "$out/whatif.md" \
  --json "$out/whatif.json" "${process_args[@]}" "${whatif_args[@]}"

result() {  # the verdict of one step for the summary table
  case "$1" in 0) echo "passed" ;; *) echo "**failed** (exit $1)" ;; esac
}
rc_of() { cat "$out/$1.rc" 2>/dev/null || echo "?"; }
problem_lines() { grep -c '^::' "$out/validate.out" 2>/dev/null || true; }
tail_err() {  # a failed step's own message (our tools never print a field value or a secret)
  if [ "$(rc_of "$1")" != "0" ] && [ -s "$out/$1.err" ]; then
    printf '\n```text\n%s\n```\n' "$(tail -n 20 "$out/$1.err")"
  fi
}

{
  echo "<!-- playbook-pr-check -->"
  echo "## Playbook checks"
  echo
  echo "| step | result |"
  echo "| --- | --- |"
  echo "| \`validate\` | $(result "$(rc_of validate)"); $(problem_lines) annotation(s) |"
  echo "| \`history --strict\` (new commits) | $(result "$(rc_of history)") |"
  echo "| \`diff\` | $(result "$(rc_of diff)") |"
  echo "| \`whatif\` | $(result "$(rc_of whatif)") |"
  tail_err validate
  echo
  cat "$out/diff.out" 2>/dev/null
  tail_err diff
  echo
  [ -n "$snapshot_note" ] && { echo "> $snapshot_note"; echo; }
  if [ -s "$out/whatif.md" ]; then cat "$out/whatif.md"; fi
  tail_err whatif
  echo
  echo "<details><summary>Commits in this pull request (history --strict)</summary>"
  echo
  cat "$out/history.out" 2>/dev/null
  tail_err history
  echo
  echo "</details>"
} >"$out/comment.md"

exit "$status"
