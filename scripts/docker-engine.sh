#!/usr/bin/env bash
# Make a Docker engine with Compose v2 available on a Debian bookworm host (idempotent).
#
#   1. apt-get install docker.io (the 20.10 engine), mmdebstrap and zstd when missing;
#   2. start dockerd in the background when no engine answers (PID 1 is not systemd here);
#   3. install Compose v2 as a CLI plugin from Debian trixie's docker-compose .deb (bookworm only
#      has v1, which lacks `up --wait` and top-level `name:`).
#
# Prints one line per step; exits non-zero with the reason when something cannot be done.
# Needs root for steps 1-3 unless they are already satisfied. No image registry is used.
#
#   PRELIVE_CACHE    cache folder (default ~/.cache/prelive): dockerd log, compose .deb
#   DEBIAN_MIRROR    Debian mirror URI (default: the first URIs/deb line of the host's apt sources)
#   DOCKERD_ARGS     extra dockerd arguments (never --bridge=none beside another daemon)
set -euo pipefail

CACHE=${PRELIVE_CACHE:-$HOME/.cache/prelive}
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
DOCKERD_LOG=$CACHE/dockerd.log
export DEBIAN_FRONTEND=noninteractive
mkdir -p "$CACHE"

say() { printf 'docker-engine: %s\n' "$*"; }
die() { printf 'docker-engine: ERROR: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local m
  m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
  [ -n "$m" ] || m=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
  echo "${m:-http://deb.debian.org/debian}"
}

# ------------------------------------------------------------------ 1. packages
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
command -v zstd >/dev/null || missing+=(zstd)
if [ ${#missing[@]} -gt 0 ]; then
  is_root || die "missing ${missing[*]}; run this script as root (sudo bash scripts/docker-engine.sh)"
  say "installing ${missing[*]}"
  apt-get update -qq >"$CACHE/apt-update.log" 2>&1 || { cat "$CACHE/apt-update.log" >&2; die "apt-get update failed"; }
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$CACHE/apt-install.log" 2>&1 \
    || { tail -30 "$CACHE/apt-install.log" >&2; die "apt-get install ${missing[*]} failed"; }
fi

# ------------------------------------------------------------------ 2. engine
if docker info >/dev/null 2>&1; then
  say "engine $(docker version -f '{{.Server.Version}}' 2>/dev/null) already running"
else
  is_root || die "no Docker engine answers and starting dockerd needs root (sudo bash scripts/docker-engine.sh)"
  if pgrep -x dockerd >/dev/null; then
    say "dockerd is running but not answering yet; waiting"
  else
    # A killed daemon leaves its managed containerd dying for a while; starting now would time out.
    for _ in $(seq 1 150); do
      pgrep -f 'containerd --config /var/run/docker/containerd/containerd.toml' >/dev/null || break
      sleep 0.2
    done
    rm -f /var/run/docker.pid
    # shellcheck disable=SC2086  # DOCKERD_ARGS is a list of words on purpose
    setsid dockerd ${DOCKERD_ARGS:-} >"$DOCKERD_LOG" 2>&1 </dev/null &
    say "started dockerd (pid $!, log $DOCKERD_LOG)"
  fi
  for _ in $(seq 1 600); do docker info >/dev/null 2>&1 && break; sleep 0.1; done
  docker info >/dev/null 2>&1 || { tail -30 "$DOCKERD_LOG" >&2 || true; die "dockerd did not answer within 60 s (log: $DOCKERD_LOG)"; }
  say "engine $(docker version -f '{{.Server.Version}}') ready"
fi

# ------------------------------------------------------------------ 3. Compose v2 plugin
compose_v2() { docker compose version --short 2>/dev/null | grep -Eq '^v?2\.'; }
if compose_v2; then
  say "compose $(docker compose version --short) present"
else
  is_root || die "Compose v2 is missing; run this script as root to install it into $PLUGIN_DIR"
  deb=$(ls "$CACHE"/docker-compose_2*.deb 2>/dev/null | tail -1 || true)
  if [ -z "$deb" ]; then
    APT=$CACHE/apt-trixie
    mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial"
    echo "deb $(mirror) trixie main" >"$APT/sources.list"
    opts=(-o "Dir::Etc::SourceList=$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache" -o Debug::NoLocking=1)
    # A private apt configuration: the host's own sources and package state stay untouched.
    apt-get "${opts[@]}" update -qq >"$CACHE/apt-trixie.log" 2>&1 \
      || { cat "$CACHE/apt-trixie.log" >&2; die "cannot read Debian trixie's package list from $(mirror)"; }
    (cd "$CACHE" && apt-get "${opts[@]}" download docker-compose >>"$CACHE/apt-trixie.log" 2>&1) \
      || { cat "$CACHE/apt-trixie.log" >&2; die "cannot download trixie's docker-compose package"; }
    deb=$(ls "$CACHE"/docker-compose_2*.deb | tail -1)
  fi
  mkdir -p "$PLUGIN_DIR"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$PLUGIN_DIR" --strip-components=5 --wildcards './usr/libexec/docker/cli-plugins/docker-compose'
  chmod 755 "$PLUGIN_DIR/docker-compose"
  compose_v2 || die "installed $PLUGIN_DIR/docker-compose from $deb but 'docker compose version' does not report v2"
  say "compose $(docker compose version --short) installed from $(basename "$deb")"
fi
