# Shared by the scripts: where builds and tools live (outside the clone, so a
# fresh clone reuses earlier builds), and the PATH that puts npm's wasm-opt
# ahead of any other (see docs/development.md).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gatehouse/target}"
export GATEHOUSE_TOOLS_DIR="${GATEHOUSE_TOOLS_DIR:-$HOME/.cache/gatehouse/tools}"
export PATH="$GATEHOUSE_TOOLS_DIR/node_modules/.bin:$HOME/.cargo/bin:$PATH"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
step() { printf '\n\033[1;32m==> %s\033[0m\n' "$*" >&2; }

# A Python venv `name` under the tools directory holding the pinned
# `requirements`, (re)made only when that file changes; prints its path.
pinned_venv() {
  local venv="$GATEHOUSE_TOOLS_DIR/$1" requirements=$2 sum
  sum=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [[ "$(cat "$venv/.installed-requirements" 2>/dev/null)" != "$sum" ]]; then
    step "Installing $1 from $requirements"
    rm -rf "$venv"
    # A command substitution does not stop at errors: each step says so.
    python3 -m venv "$venv" >&2 || return 1
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2 || return 1
    echo "$sum" > "$venv/.installed-requirements"
  fi
  echo "$venv"
}
