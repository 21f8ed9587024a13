#!/usr/bin/env bash
# Reports what the browser downloads of the built bundle (the names come
# from hash.txt), gzip against the 250 KB budget, and the brotli copies the
# server actually sends to browsers that take them.
set -euo pipefail
source "$(dirname "$0")/env.sh"
site="$REPO_ROOT/target/site"
hash() { sed -n "s/^$1: *//p" "$site/hash.txt"; }
total=0
total_br=0
for kind in wasm js css; do
  file="$site/pkg/gatehouse.$(hash "$kind").$kind"
  raw=$(stat -c %s "$file")
  gz=$(gzip -9 -n -c "$file" | wc -c)
  br=$(stat -c %s "$file.br")
  total=$((total + gz))
  total_br=$((total_br + br))
  printf '%-16s %8d bytes raw %8d bytes gzip %8d bytes brotli\n' "gatehouse.$kind" "$raw" "$gz" "$br"
done
printf '%-16s %26d bytes gzip (budget 256000) %8d bytes brotli\n' "total" "$total" "$total_br"
if (( total > 256000 )); then
  echo "The browser bundle is over the 250 KB budget" >&2
  exit 1
fi
