#!/usr/bin/env bash
# One script for a fresh Debian/Ubuntu machine: installs what Ennichi needs and
# runs it, or runs the whole test suite.
#
#   bash packaging/dev.sh run     # set up, then run the demo (server + terminal)
#   bash packaging/dev.sh test    # set up, then lint, type-check and run every test
#   bash packaging/dev.sh setup   # only set up what running needs (setup-test: what the tests need too)
#
# As root it installs system packages with apt-get; as another user it uses
# sudo when available, otherwise it says which packages are missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${ENNICHI_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"

# What running Ennichi needs (the server, a terminal window, the demo)...
APT_RUN=(
  python3-venv
  libzbar0            # pyzbar's decoder library
  fonts-noto-cjk      # Japanese text in the terminal's window and printed sheets
  libegl1 libgl1 libxkbcommon0 libglib2.0-0 libfontconfig1 libdbus-1-3 libxcb-cursor0  # Qt
  libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0  # Qt's xcb plugin (a window on a real screen)
  iproute2            # venue mode reads this machine's network addresses with ip(8)
)
# ...and what only the tests use, installed by 'dev.sh test' alone.
APT_TEST=(
  postgresql          # the second storage engine, exercised by the tests
  chromium            # browser tests and page screenshots (Playwright drives it)
  binutils            # PyInstaller needs objdump
  nginx               # the TLS example is checked with nginx -t
  caddy               # the public-host reverse proxy, run with its internal CA on loopback
)

log() { printf '\033[1m[ennichi]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@";
  elif command -v sudo >/dev/null 2>&1; then sudo "$@";
  else return 1; fi
}

setup_system() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -eq 0 ]; then return 0; fi
  log "installing system packages: ${missing[*]}"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q \
     || ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    log "could not install ${missing[*]}: run this script as root, or install them with your package manager"
    return 1
  fi
}

# setup_python [EXTRA]: the project into the venv, with an optional extra (dev: the test tools).
setup_python() {
  local extra="${1:-}"
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtual environment in $VENV"
    "$PY" -m venv "$VENV"
  fi
  local stamp="$VENV/.ennichi-setup"
  local want
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)${extra:+ $extra}"
  # a venv set up for the tests also serves 'run'; one set up for 'run' is completed for 'test'
  if [ ! -f "$stamp" ] || { [ "$(cat "$stamp")" != "$want" ] && [ "$(cat "$stamp")" != "$want dev" ]; }; then
    log "installing Python packages"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ".${extra:+[$extra]}"
    echo "$want" > "$stamp"
  fi
}

# Start (or find) PostgreSQL and export ENNICHI_TEST_PG_URL for the tests.
setup_postgres() {
  if [ -n "${ENNICHI_TEST_PG_URL:-}" ]; then return 0; fi
  local url="postgresql+psycopg://ennichi:ennichi@127.0.0.1:5432/postgres"
  if [ "$(id -u)" = 0 ] || command -v sudo >/dev/null 2>&1; then
    local cluster
    cluster="$(pg_lsclusters -h 2>/dev/null | head -n1 | awk '{print $1" "$2}')"
    if [ -z "$cluster" ]; then
      log "creating a PostgreSQL cluster"
      as_root pg_createcluster "$(ls /usr/lib/postgresql | sort -V | tail -n1)" main
      cluster="$(pg_lsclusters -h | head -n1 | awk '{print $1" "$2}')"
    fi
    # shellcheck disable=SC2086
    as_root pg_ctlcluster $cluster start 2>/dev/null || true
    for _ in $(seq 1 30); do
      as_root su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break
      sleep 0.5
    done
    as_root su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname='ennichi'\"" | grep -q 1 \
      || as_root su postgres -c "psql -qc \"create role ennichi login superuser password 'ennichi'\""
  fi
  export ENNICHI_TEST_PG_URL="$url"
}

cmd_setup() { setup_system "${APT_RUN[@]}"; setup_python; }

cmd_setup_test() { setup_system "${APT_RUN[@]}" "${APT_TEST[@]}"; setup_python dev; }

cmd_test() {
  cmd_setup_test
  setup_postgres
  export QT_QPA_PLATFORM=offscreen
  export PLAYWRIGHT_CHROMIUM_EXECUTABLE="${PLAYWRIGHT_CHROMIUM_EXECUTABLE:-/usr/bin/chromium}"
  local bin="$VENV/bin"
  log "ruff"
  "$bin/ruff" check terminal sync scanner ui server tests bench
  log "mypy"
  "$bin/mypy" sync terminal scanner ui server  # strict (pyproject.toml), every package the product ships
  log "pytest"
  "$bin/pytest" -n 2 --dist loadfile "$@"
}

cmd_run() {
  cmd_setup
  exec "$VENV/bin/ennichi" demo "$@"
}

case "${1:-}" in
  setup) shift; cmd_setup "$@" ;;
  setup-test) shift; cmd_setup_test "$@" ;;
  test) shift; cmd_test "$@" ;;
  run) shift; cmd_run "$@" ;;
  *) echo "usage: bash packaging/dev.sh {run|test|setup|setup-test} [args...]" >&2; exit 2 ;;
esac
