#!/usr/bin/env bash
# Builds the base image the Dockerfile's FROM line names (node:20-bookworm-slim) locally, with no registry:
#   debootstrap --variant=minbase bookworm + the host's node binary and the libraries it needs (ldd) + the
#   host's npm + tini + ca-certificates, imported with `podman import` and tagged with the public name, so
#   `podman build --pull=never` resolves FROM node:20-bookworm-slim here. For air-gapped sites and CI.
#
# Usage: scripts/build-base-image.sh [--force] [--mirror URL] [--image NAME]
# Idempotent: skips when the image exists, unless --force. Needs root, debootstrap and podman.
# It also writes the podman configuration ENVIRONMENT.md asks for (runc, ulimits) to $CONTAINERS_CONF
# (default .astral/containers.conf) when that file is missing; export CONTAINERS_CONF to reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."

FORCE=0
IMAGE=node:20-bookworm-slim
MIRROR=""
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1 ;;
    --mirror) MIRROR="$2"; shift ;;
    --image) IMAGE="$2"; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "build-base-image: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/.astral/containers.conf}"
if [ ! -f "$CONTAINERS_CONF" ]; then
  mkdir -p "$(dirname "$CONTAINERS_CONF")"
  cat >"$CONTAINERS_CONF" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
EOF
fi

for tool in podman debootstrap node; do
  command -v "$tool" >/dev/null || { echo "build-base-image: $tool is missing (Debian: apt-get install -y podman debootstrap)" >&2; exit 1; }
done

LOCAL="localhost/$IMAGE"
PUBLIC="docker.io/library/$IMAGE"
if [ "$FORCE" = 0 ] && podman image exists "$LOCAL"; then
  podman tag "$LOCAL" "$PUBLIC" # cheap, keeps the FROM name resolvable
  echo "build-base-image: $LOCAL exists (use --force to rebuild)"
  exit 0
fi

# The Debian mirror this host's apt uses (deb822 or one-line format), unless given.
if [ -z "$MIRROR" ]; then
  MIRROR=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
    | grep -E 'debian/?$|debian/? ' | grep -v security | head -n 1 | sed -E 's/^URIs:[[:space:]]*//; s/^deb (\[[^]]*\] )?//; s/[[:space:]].*$//' || true)
  MIRROR="${MIRROR:-http://deb.debian.org/debian}"
fi

ROOT=$(mktemp -d /tmp/astral-base.XXXXXX)
trap 'rm -rf "$ROOT"' EXIT
START=$(date +%s)
echo "build-base-image: debootstrap bookworm from $MIRROR into $ROOT"
mkdir -p .astral
DEBOOTSTRAP_LOG="$PWD/.astral/debootstrap.log"
debootstrap --variant=minbase --include=ca-certificates,tini bookworm "$ROOT" "$MIRROR" >"$DEBOOTSTRAP_LOG" 2>&1 \
  || { tail -n 20 "$DEBOOTSTRAP_LOG" >&2; echo "build-base-image: debootstrap failed; full log in $DEBOOTSTRAP_LOG" >&2; exit 1; }

# Node: the host's binary and every shared library it links that the rootfs does not already have.
NODE_BIN=$(readlink -f "$(command -v node)")
install -D -m 0755 "$NODE_BIN" "$ROOT/usr/local/bin/node"
ldd "$NODE_BIN" | awk '/=> \//{print $3} /^\t\//{print $1}' | while read -r lib; do
  real=$(readlink -f "$lib")
  [ -e "$ROOT$lib" ] && continue
  install -D -m 0644 "$real" "$ROOT$lib"
done
# npm (and npx) from the host's node installation.
NPM_DIR=$(cd "$(dirname "$NODE_BIN")/../lib/node_modules/npm" 2>/dev/null && pwd || npm root -g | sed 's|$|/npm|')
mkdir -p "$ROOT/usr/local/lib/node_modules"
cp -a "$NPM_DIR" "$ROOT/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOT/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOT/usr/local/bin/npx"
# Slim: no apt lists, docs or man pages.
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/*
chroot "$ROOT" /usr/local/bin/node --version >/dev/null || { echo "build-base-image: node does not run in the rootfs" >&2; exit 1; }

echo "build-base-image: importing as $LOCAL"
tar -C "$ROOT" -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_VERSION='"$(node --version | tr -d v)" \
  --change 'CMD ["node"]' \
  - "$LOCAL" >/dev/null
podman tag "$LOCAL" "$PUBLIC"
echo "build-base-image: $LOCAL and $PUBLIC ready in $(( $(date +%s) - START )) s, $(podman image inspect "$LOCAL" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')"
