#!/usr/bin/env bash
# Provide the base image `local/python:3.11-slim` without a registry (idempotent), then,
# unless `--base-only`, build the prelive image through `prelive docker build`.
#
# The base is a Debian bookworm minbase rootfs made by mmdebstrap with `python3 -m venv /usr/local`
# (python:3.11-slim's layout), imported with `docker import`. It is labelled
# prelive.base-recipe=<recipe>; a matching image is reused (0.1 s), else a saved copy in
# $PRELIVE_CACHE is loaded (~2 s), else it is built (~25 s) and saved for the next run.
#
#   PRELIVE_CACHE       cache folder (default ~/.cache/prelive)
#   PRELIVE_BASE_IMAGE  tag of the base image (default local/python:3.11-slim)
#   DEBIAN_MIRROR       Debian mirror URI (default: from the host's apt sources)
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${PRELIVE_CACHE:-$HOME/.cache/prelive}
BASE_IMAGE=${PRELIVE_BASE_IMAGE:-local/python:3.11-slim}
RECIPE=v1-minbase            # bump to force a rebuild everywhere
BASE_TAR=$CACHE/base-$RECIPE.tar.zst
mkdir -p "$CACHE"

say() { printf 'docker-images: %s\n' "$*"; }
die() { printf 'docker-images: ERROR: %s\n' "$*" >&2; exit 1; }

docker info >/dev/null 2>&1 || die "no Docker engine reachable; start one with: sudo bash scripts/docker-engine.sh"

mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local m
  m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
  [ -n "$m" ] || m=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
  echo "${m:-http://deb.debian.org/debian}"
}

have_base() {
  [ "$(docker image inspect -f '{{index .Config.Labels "prelive.base-recipe"}}' "$BASE_IMAGE" 2>/dev/null)" = "$RECIPE" ]
}

t0=$(date +%s.%N)
if have_base; then
  say "base image $BASE_IMAGE ($RECIPE) present"
elif [ -s "$BASE_TAR" ] && zstd -dc "$BASE_TAR" | docker load -q >/dev/null 2>&1 && have_base; then
  say "base image $BASE_IMAGE loaded from $BASE_TAR"
else
  command -v mmdebstrap >/dev/null || die "mmdebstrap is missing; run: sudo bash scripts/docker-engine.sh"
  [ "$(id -u)" = 0 ] || die "building the base image with mmdebstrap needs root"
  say "building base image $BASE_IMAGE with mmdebstrap from $(mirror) (about 25 s)"
  # libstdc++6: numpy/pandas wheels need it. The merged-usr hook keeps apt from pulling usrmerge + perl.
  mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,libstdc++6 \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt=force-unsafe-io \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook='chroot "$1" /usr/bin/python3 -m venv /usr/local' \
    --customize-hook='rm -rf "$1"/var/log/apt/* "$1"/var/log/*.log "$1"/root/.cache "$1"/var/lib/apt/lists/*' \
    bookworm - "$(mirror)" 2>"$CACHE/mmdebstrap.log" \
  | docker import \
      --change 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV LANG=C.UTF-8' --change 'ENV PYTHON_VERSION=3.11.2' \
      --change "LABEL prelive.managed=true prelive.base-recipe=$RECIPE" --change 'CMD ["python3"]' \
      - "$BASE_IMAGE" >/dev/null \
    || { tail -30 "$CACHE/mmdebstrap.log" >&2; die "mmdebstrap | docker import failed (log: $CACHE/mmdebstrap.log)"; }
  have_base || { tail -30 "$CACHE/mmdebstrap.log" >&2; die "the imported base image lacks the recipe label"; }
  docker save "$BASE_IMAGE" | zstd -q -T0 -3 >"$BASE_TAR.tmp" && mv "$BASE_TAR.tmp" "$BASE_TAR"
  say "base image built and saved to $BASE_TAR"
fi
say "base ready in $(echo "$(date +%s.%N) - $t0" | bc 2>/dev/null || echo '?') s"

if [ "${1:-}" != "--base-only" ]; then
  PY=${PRELIVE_PYTHON:-}
  [ -n "$PY" ] || { [ -x .venv/bin/python ] && PY=.venv/bin/python || PY=python3; }
  "$PY" -m harness.cli docker build
fi
