#!/usr/bin/env bash
# Installs the pinned build tools Gatehouse needs, each only when the right
# version is missing. Safe to run repeatedly; see docs/development.md for why
# each step looks the way it does (offline machine, pinned versions).
set -euo pipefail
source "$(dirname "$0")/env.sh"

CARGO_LEPTOS_VERSION=0.3.11
WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132.0.0
TOOLS_DIR="${GATEHOUSE_TOOLS_DIR:-$HOME/.cache/gatehouse/tools}"

log() { printf '\033[1;34m[install-tools]\033[0m %s\n' "$*" >&2; }

# Builds a crate from its registry source after pinning one dependency, for
# tools whose lock file needs something this toolchain or registry lacks.
install_with_pin() {
  local crate=$1 version=$2 dep=$3 dep_version=$4
  cargo install "$crate" --version "$version" --locked >/dev/null 2>&1 && return 0 || true
  local src
  src=$(ls -d "$HOME"/.cargo/registry/src/*/"$crate-$version" 2>/dev/null | head -1)
  if [[ -z "$src" ]]; then
    log "could not fetch the source of $crate $version"; return 1
  fi
  local work
  work=$(mktemp -d)
  cp -r "$src" "$work/$crate"
  (cd "$work/$crate" && cargo update -p "$dep" --precise "$dep_version" && cargo install --path . --locked)
  rm -rf "$work"
}

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [[ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 4 minutes)"
  install_with_pin wasm-bindgen-cli "$WASM_BINDGEN_VERSION" webpki-roots 1.0.10
fi

if [[ "$(cargo leptos --version 2>/dev/null || true)" != *"$CARGO_LEPTOS_VERSION"* ]]; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 22 minutes on 2 cores)"
  install_with_pin cargo-leptos "$CARGO_LEPTOS_VERSION" cargo-util-schemas 0.14.0
fi

if [[ "$("$TOOLS_DIR/node_modules/.bin/wasm-opt" --version 2>/dev/null || true)" != *"version ${BINARYEN_VERSION%%.*}"* ]]; then
  log "installing wasm-opt from npm binaryen@$BINARYEN_VERSION"
  mkdir -p "$TOOLS_DIR"
  (cd "$TOOLS_DIR" && npm install --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION")
fi
log "tools ready"
