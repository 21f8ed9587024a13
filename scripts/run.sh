#!/usr/bin/env bash
# Sets up what is missing, builds the release, and runs Gatehouse on the
# embedded default: SQLite in ./data, mail written to ./data/mail.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"

step "Installing missing build tools"
scripts/install-tools.sh

step "Building the release (browser bundle and server)"
scripts/build.sh

step "Starting Gatehouse at ${GATEHOUSE_PUBLIC_URL:-http://127.0.0.1:3000}"
export GATEHOUSE_DATA_DIR="${GATEHOUSE_DATA_DIR:-$REPO_ROOT/data}"
export GATEHOUSE_SITE_ROOT="${GATEHOUSE_SITE_ROOT:-$REPO_ROOT/target/site}"
exec "$CARGO_TARGET_DIR/release/gatehouse" serve
