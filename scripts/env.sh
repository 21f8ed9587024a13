# Shared by the scripts: where builds and tools live (outside the clone, so a
# fresh clone reuses earlier builds), and the PATH that puts npm's wasm-opt
# ahead of any other (see docs/development.md).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gatehouse/target}"
export GATEHOUSE_TOOLS_DIR="${GATEHOUSE_TOOLS_DIR:-$HOME/.cache/gatehouse/tools}"
export PATH="$GATEHOUSE_TOOLS_DIR/node_modules/.bin:$HOME/.cargo/bin:$PATH"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
step() { printf '\n\033[1;32m==> %s\033[0m\n' "$*" >&2; }
