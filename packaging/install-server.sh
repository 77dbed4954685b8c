#!/usr/bin/env bash
# Install an Ennichi server on a fresh Debian/Ubuntu machine, with one command (as root):
#
#   bash packaging/install-server.sh --domain fest.example.org [--email you@example.org]
#       a public host (a cloud VM): Caddy in front with automatic HTTPS, so visitors' phones open My page
#   bash packaging/install-server.sh --venue
#       a laptop at a venue with no internet: the server's own certificate on :8443, pinned by terminals
#
# Both: a system user, the project in a venv (/opt/ennichi), the data folder (/var/lib/ennichi), the
# settings (/etc/ennichi/server.env), the systemd service, backups every 15 minutes on a timer, the event
# made on first install (the admin's password printed once; `ennichi admin reset-admin` makes a new one),
# and a health check at the end.  Run it again to upgrade: it keeps the data and the settings.
#
# Options:
#   --event-name NAME      the event's name at first install (default "Ennichi")
#   --port N               the server's port (default 8000 behind Caddy, 8443 in venue mode)
#   --prefix DIR           where the venv goes (default /opt/ennichi)
#   --root DIR             write every file under DIR instead of / (for checking the result; implies --no-start)
#   --no-apt --no-user --no-pip --no-start   skip those steps (the test suite uses them)
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DOMAIN="" EMAIL="" VENUE=0 EVENT_NAME="Ennichi" PORT="" PREFIX="/opt/ennichi" ROOT=""
DO_APT=1 DO_USER=1 DO_PIP=1 DO_START=1

log() { printf '\033[1m[ennichi]\033[0m %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --domain) DOMAIN="${2:?--domain needs a host name}"; shift 2 ;;
    --email) EMAIL="${2:?}"; shift 2 ;;
    --venue) VENUE=1; shift ;;
    --event-name) EVENT_NAME="${2:?}"; shift 2 ;;
    --port) PORT="${2:?}"; shift 2 ;;
    --prefix) PREFIX="${2:?}"; shift 2 ;;
    --root) ROOT="${2:?}"; DO_START=0; shift 2 ;;
    --no-apt) DO_APT=0; shift ;;
    --no-user) DO_USER=0; shift ;;
    --no-pip) DO_PIP=0; shift ;;
    --no-start) DO_START=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
if [ -n "$DOMAIN" ] && [ "$VENUE" = 1 ]; then die "choose --domain or --venue, not both"; fi
if [ -z "$DOMAIN" ] && [ "$VENUE" = 0 ]; then die "say --domain HOST (a public host) or --venue (a venue laptop)"; fi
if [ -n "$DOMAIN" ] && ! [[ "$DOMAIN" =~ ^[A-Za-z0-9.-]+$ ]]; then die "--domain takes a host name, e.g. fest.example.org"; fi
if [ -z "$PORT" ]; then PORT=$([ "$VENUE" = 1 ] && echo 8443 || echo 8000); fi
[[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die "--port takes 1-65535"
if [ "$DO_START" = 1 ] && [ "$(id -u)" != 0 ]; then die "run as root (sudo bash $0 ...)"; fi

ETC="$ROOT/etc" UNITS="$ROOT/etc/systemd/system" DATA="$ROOT/var/lib/ennichi"

if [ "$DO_APT" = 1 ]; then
  pkgs=(python3-venv libzbar0 fonts-noto-cjk iproute2 curl)
  [ -n "$DOMAIN" ] && pkgs+=(caddy)
  log "installing ${pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}"
fi

if [ "$DO_USER" = 1 ] && ! id ennichi >/dev/null 2>&1; then
  log "creating the system user ennichi"
  useradd --system --home-dir /var/lib/ennichi --shell /usr/sbin/nologin ennichi
fi

if [ "$DO_PIP" = 1 ]; then
  log "installing Ennichi into $PREFIX"
  [ -x "$PREFIX/bin/python" ] || python3 -m venv "$PREFIX"
  "$PREFIX/bin/python" -m pip install -q --upgrade pip
  "$PREFIX/bin/python" -m pip install -q "$SRC"
fi
[ -x "$PREFIX/bin/ennichi" ] || die "$PREFIX/bin/ennichi is missing (the pip step failed or was skipped)"

install -d -m 0755 "$ETC/ennichi" "$UNITS"
install -d -m 0700 "$DATA"
ENV_FILE="$ETC/ennichi/server.env"
if [ ! -f "$ENV_FILE" ]; then
  if [ "$VENUE" = 1 ]; then
    host=0.0.0.0 tls=1 public=""  # venue mode finds this machine's address on the Wi-Fi at every start
  else
    host=127.0.0.1 tls=0 public="https://$DOMAIN"
  fi
  log "writing $ENV_FILE"
  cat > "$ENV_FILE" <<EOF
# Settings of ennichi-server.service (written by packaging/install-server.sh; kept on upgrade).
# Every ServerSettings field can be set as ENNICHI_<FIELD>; see server/settings.py.
ENNICHI_DATA_DIR=/var/lib/ennichi
ENNICHI_HOST=$host
ENNICHI_PORT=$PORT
ENNICHI_TLS=$tls
ENNICHI_PUBLIC_URL=$public
ENNICHI_LOG_LEVEL=info
#ENNICHI_DATABASE_URL=postgresql+psycopg://ennichi:CHANGE-ME@127.0.0.1:5432/ennichi
EOF
  chmod 0640 "$ENV_FILE"
fi

log "writing the systemd units into $UNITS"
for unit in ennichi-server.service ennichi-backup.service ennichi-backup.timer; do
  sed -e "s#/opt/ennichi/#$PREFIX/#g" "$SRC/packaging/systemd/$unit" > "$UNITS/$unit"
  chmod 0644 "$UNITS/$unit"
done
if [ "$VENUE" = 1 ]; then  # listening on the Wi-Fi on a port above 1024 needs no capability
  sed -i -e 's#^RestrictAddressFamilies=.*#RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK#' \
    "$UNITS/ennichi-server.service"  # ip(8) lists addresses over netlink (server/venue.py)
fi

if [ -n "$DOMAIN" ]; then
  install -d -m 0755 "$ETC/caddy"
  sed -e "s#^import /etc/caddy/#import $ETC/caddy/#" "$SRC/packaging/caddy/Caddyfile" > "$ETC/caddy/Caddyfile"
  sed -e "s#{\$ENNICHI_DOMAIN}#$DOMAIN#" -e "s#{\$ENNICHI_UPSTREAM:127.0.0.1:8000}#127.0.0.1:$PORT#" \
    "$SRC/packaging/caddy/ennichi.caddy" > "$ETC/caddy/ennichi.caddy"
  if [ -n "$EMAIL" ]; then
    [[ "$EMAIL" =~ ^[^[:space:]#]+@[^[:space:]#]+$ ]] || die "--email takes an address, e.g. you@example.org"
    sed -i -e "s#^\t\# email you@example.org\$#\temail $EMAIL#" "$ETC/caddy/Caddyfile"
  fi
  if command -v caddy >/dev/null 2>&1; then
    caddy validate --config "$ETC/caddy/Caddyfile" --adapter caddyfile >/dev/null 2>&1 \
      || die "caddy refused $ETC/caddy/Caddyfile (caddy validate --config $ETC/caddy/Caddyfile)"
  fi
fi

if command -v systemd-analyze >/dev/null 2>&1 && [ -z "$ROOT" ]; then
  systemd-analyze verify "$UNITS/ennichi-server.service" "$UNITS/ennichi-backup.service" \
    "$UNITS/ennichi-backup.timer" || die "systemd-analyze verify found a problem in the units"
fi

if [ "$DO_START" = 0 ]; then
  log "files written under ${ROOT:-/}; not started (--no-start)"
  exit 0
fi

chown ennichi:ennichi "$DATA"
chgrp ennichi "$ENV_FILE"
run_as_ennichi() { runuser -u ennichi -- env ENNICHI_DATA_DIR=/var/lib/ennichi "$@"; }
if [ ! -e "$DATA/ennichi.db" ] && [ ! -e "$DATA/server.toml" ]; then
  log "creating the event \"$EVENT_NAME\""
  run_as_ennichi "$PREFIX/bin/ennichi" server init --event-name "$EVENT_NAME"
else
  run_as_ennichi "$PREFIX/bin/ennichi" server upgrade
fi
systemctl daemon-reload
systemctl enable --now ennichi-server.service ennichi-backup.timer
[ -n "$DOMAIN" ] && systemctl reload-or-restart caddy

scheme=$([ "$VENUE" = 1 ] && echo https || echo http)
log "waiting for the server to answer"
for _ in $(seq 1 60); do
  if curl -fsk --max-time 2 "$scheme://127.0.0.1:$PORT/api/v1/health" >/dev/null; then
    log "healthy: $scheme://127.0.0.1:$PORT/api/v1/health"
    journalctl -u ennichi-server -n 20 --no-pager -o cat | grep -A40 "Ennichi server" | head -40 || true
    [ -n "$DOMAIN" ] && log "public address: https://$DOMAIN (Caddy gets its certificate on the first visit)"
    exit 0
  fi
  sleep 1
done
die "the server did not answer in 60 s: journalctl -u ennichi-server -n 50"
