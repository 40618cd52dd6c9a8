#!/usr/bin/env bash
# Install the system packages a goal needs, only where missing, so `make site`
# and `make test` work on a fresh Debian machine. Usage: system-deps.sh site|test
set -euo pipefail
goal="${1:-site}"
need=()
command -v dot >/dev/null 2>&1 || need+=(graphviz)
command -v git >/dev/null 2>&1 || need+=(git)
if [ "$goal" = test ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  # pdftotext reads back the audit pack the tests print to PDF.
  command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
  # npm installs Salesforce's and HubSpot's tooling (scripts/node-deps.sh); any node will do for npm.
  command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
fi
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing system packages: ${need[*]}" >&2
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
