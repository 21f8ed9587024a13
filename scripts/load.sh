#!/usr/bin/env bash
# The mixed load and the fault runs of docs/benchmarks.md ("Under load and
# faults"): builds the release, installs the pinned locust (and HAProxy for
# --replicas), then runs scripts/load/run.py with the arguments given, e.g.
#   scripts/load.sh                                    # 200 clients, 60 s
#   scripts/load.sh --stop-postgres-at 20              # PostgreSQL down 5 s mid-load
#   scripts/load.sh --replicas 2 --kill-replica-at 20  # two replicas, one killed
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"

venv=$(pinned_venv load-venv scripts/load-requirements.txt)
if ! command -v haproxy >/dev/null; then
  step "Installing HAProxy"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
fi
scripts/postgres.sh
if [[ "${GATEHOUSE_SKIP_BUILD:-}" != 1 ]]; then
  step "Release build"
  scripts/build.sh
fi
step "Load"
"$venv/bin/python" scripts/load/run.py "$@"
