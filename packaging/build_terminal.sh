#!/usr/bin/env bash
# Build the stall terminal as a one-folder app with PyInstaller.
#
#   bash packaging/build_terminal.sh [--dist DIR] [--work DIR] [--clean]
#
# Output: DIR/ennichi-terminal/ennichi-terminal (default DIR: dist/); on macOS also
# "DIR/Ennichi Terminal.app".  PyInstaller's work folder (default build/pyinstaller)
# is kept between builds, so a rebuild only redoes what changed; --clean throws it away.
# Check the result with:  DIR/ennichi-terminal/ennichi-terminal --self-test
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DIST="$ROOT/dist"
WORK="$ROOT/build/pyinstaller"
CLEAN=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dist) DIST="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --clean) CLEAN=(--clean); shift ;;
    *) echo "usage: bash packaging/build_terminal.sh [--dist DIR] [--work DIR] [--clean]" >&2; exit 2 ;;
  esac
done

if [ -n "${ENNICHI_PYTHON:-}" ]; then PY="$ENNICHI_PYTHON"
elif [ -x "$ROOT/.venv/bin/python" ]; then PY="$ROOT/.venv/bin/python"
elif [ -x "$ROOT/.venv/Scripts/python.exe" ]; then PY="$ROOT/.venv/Scripts/python.exe"
else PY="python3"; fi

case "$(uname -s)" in
  Linux)
    command -v objdump >/dev/null || { echo "PyInstaller needs objdump: apt-get install binutils" >&2; exit 1; }
    # grep without -q reads all of ldconfig's output: with pipefail, grep -q quitting early made
    # ldconfig die of SIGPIPE and the check fail at random
    ldconfig -p 2>/dev/null | grep 'libzbar\.so\.0 ' >/dev/null || [ -n "${ENNICHI_ZBAR_LIBRARY:-}" ] \
      || { echo "libzbar.so.0 not found: apt-get install libzbar0" >&2; exit 1; } ;;
  Darwin)
    command -v brew >/dev/null && [ -z "${ENNICHI_ZBAR_LIBRARY:-}" ] && [ ! -e "$(brew --prefix)/lib/libzbar.dylib" ] \
      && { echo "libzbar not found: brew install zbar" >&2; exit 1; } ;;
esac

mkdir -p "$DIST" "$WORK"
start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --log-level "${ENNICHI_PYI_LOG_LEVEL:-WARN}" ${CLEAN[@]+"${CLEAN[@]}"} \
  --distpath "$DIST" --workpath "$WORK" packaging/ennichi-terminal.spec
echo "built $DIST/ennichi-terminal in $(( $(date +%s) - start )) s" >&2
