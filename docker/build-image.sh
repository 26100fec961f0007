#!/usr/bin/env bash
# Builds localhost/astral:<version> with podman, never pulling: the FROM image must exist locally
# (scripts/build-base-image.sh makes it). Usage: docker/build-image.sh [--deps host|ci] [--tag TAG]
#   --deps host (default here): copy this checkout's node_modules (after `npm ci`) into the deps stage.
#       The in-image `npm ci` needs node-gyp headers from nodejs.org for better-sqlite3, which an
#       offline machine cannot reach; the host's tree is built for the same Node 20 and bookworm glibc.
#   --deps ci: plain `npm ci` inside the build (registry + Debian mirror needed), the usual path elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
DEPS=host
VERSION=$(node -p 'require("./package.json").version')
TAG="localhost/astral:$VERSION"
while [ $# -gt 0 ]; do
  case "$1" in
    --deps) DEPS="$2"; shift ;;
    --tag) TAG="$2"; shift ;;
    *) echo "build-image: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/.astral/containers.conf}"
[ -f "$CONTAINERS_CONF" ] || scripts/build-base-image.sh
podman image exists node:20-bookworm-slim || scripts/build-base-image.sh
rm -rf .astral/image-deps
if [ "$DEPS" = host ]; then
  [ -d node_modules ] || { echo "build-image: run npm ci first (or use --deps ci)" >&2; exit 1; }
  mkdir -p .astral/image-deps
  cp -al node_modules .astral/image-deps/node_modules 2>/dev/null || cp -a node_modules .astral/image-deps/node_modules
fi
START=$(date +%s)
podman build --pull=never --format docker --network host \
  --build-arg DEPS="$DEPS" --build-arg VERSION="$VERSION" \
  --build-arg REVISION="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -f docker/Dockerfile -t "$TAG" .
rm -rf .astral/image-deps
echo "build-image: $TAG built in $(( $(date +%s) - START )) s, $(podman image inspect "$TAG" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')"
