#!/usr/bin/env bash
# The release build: the browser bundle (content-hashed names, with brotli
# and gzip copies made once here) and the server. `hash.txt`, which names
# the hashed files, goes into the site root too, so the site carries it
# wherever it is deployed (the server looks there first).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"
cargo leptos build --release --precompress
cp "$CARGO_TARGET_DIR/release/hash.txt" target/site/hash.txt
# cargo-leptos' gzip copies are ~15 % larger than gzip -9's, which browsers
# without brotli deserve as well.
for file in target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css; do
  gzip -9 -k -f -n "$file"
done
