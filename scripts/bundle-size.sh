#!/usr/bin/env bash
# Reports what the browser downloads (gzip), against the 250 KB budget.
set -euo pipefail
source "$(dirname "$0")/env.sh"
pkg="$REPO_ROOT/target/site/pkg"
total=0
for file in "$pkg"/gatehouse.wasm "$pkg"/gatehouse.js "$pkg"/gatehouse.css; do
  raw=$(stat -c %s "$file")
  gz=$(gzip -9 -c "$file" | wc -c)
  total=$((total + gz))
  printf '%-16s %8d bytes raw %8d bytes gzip\n' "$(basename "$file")" "$raw" "$gz"
done
printf '%-16s %26d bytes gzip (budget 256000)\n' "total" "$total"
if (( total > 256000 )); then
  echo "The browser bundle is over the 250 KB budget" >&2
  exit 1
fi
