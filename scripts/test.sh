#!/usr/bin/env bash
# Sets up what is missing and runs every check: formatting, lints for both
# targets, unit tests, integration tests on SQLite and PostgreSQL, the
# release build with its size report, and the browser tests.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"
started=$(date +%s)
# The build directory is shared by every clone (CI clones afresh each time);
# incremental caches would pile up per clone path, so the checks build without them.
export CARGO_INCREMENTAL=0

step "Installing missing build tools"
scripts/install-tools.sh
if ! command -v chromium >/dev/null; then
  step "Installing Debian's Chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
lock_sum=$(sha256sum end2end/package-lock.json | cut -d' ' -f1)
if [[ "$(cat end2end/node_modules/.installed-lock 2>/dev/null)" != "$lock_sum" ]]; then
  step "Installing the browser tests' node packages"
  (cd end2end && npm ci --no-audit --no-fund && echo "$lock_sum" > node_modules/.installed-lock)
fi

step "PostgreSQL"
scripts/postgres.sh

# schemathesis (PyPI) for the REST API's property tests, in its own venv,
# reinstalled only when its pinned requirements change.
schemathesis_venv=$(pinned_venv schemathesis-venv scripts/schemathesis-requirements.txt)
export GATEHOUSE_SCHEMATHESIS="$schemathesis_venv/bin/schemathesis"

step "Formatting"
cargo fmt --all --check

step "Lints (server build, then browser build)"
cargo clippy -p domain -p backend -p app -p server --all-targets --features app/ssr -- -D warnings
cargo clippy -p frontend -p app -p domain --lib --target wasm32-unknown-unknown --features app/hydrate -- -D warnings

# No doctests: there are none, and their rustdoc step is the one that trips
# when another build shares the target directory at the same moment.
step "Unit tests"
cargo test -p domain -p backend --lib

step "Integration tests (SQLite and PostgreSQL)"
cargo test -p server --lib --bins --tests
scripts/postgres.sh --drop-test-databases

step "Release build"
scripts/build.sh
scripts/bundle-size.sh

step "Browser tests (Chromium)"
(cd end2end && npx playwright test)

step "All checks passed in $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s"
