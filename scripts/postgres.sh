#!/usr/bin/env bash
# Makes sure PostgreSQL answers for the integration tests. Under CI it is
# mandatory; elsewhere its absence is announced loudly and the PostgreSQL
# half of each test is skipped. --drop-test-databases removes what tests left.
set -euo pipefail
URL="${GATEHOUSE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

answers() { psql "$URL" -tAc 'SELECT 1' >/dev/null 2>&1; }

if [[ "${1:-}" == "--drop-test-databases" ]]; then
  answers || exit 0
  psql "$URL" -tAc "SELECT datname FROM pg_database WHERE datname LIKE 'gatehouse_test_%'" |
    while read -r db; do [[ -n "$db" ]] && psql "$URL" -qc "DROP DATABASE IF EXISTS \"$db\"" ; done
  exit 0
fi

if ! answers && command -v pg_ctlcluster >/dev/null; then
  version=$(ls /etc/postgresql 2>/dev/null | head -1)
  [[ -n "$version" ]] && pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  for _ in $(seq 1 20); do answers && break; sleep 0.5; done
fi
if answers; then
  echo "PostgreSQL answers at $URL"
elif [[ "${CI:-}" == "true" ]]; then
  echo "PostgreSQL is required under CI but does not answer at $URL" >&2
  exit 1
else
  printf '\n\033[1;31m!!! PostgreSQL does not answer at %s: the PostgreSQL tests will be SKIPPED !!!\033[0m\n\n' "$URL" >&2
fi
