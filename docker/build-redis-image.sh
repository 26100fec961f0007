#!/usr/bin/env bash
# Builds localhost/astral-redis:7 for the compose testbed without a registry: the base image
# (scripts/build-base-image.sh) plus this host's Debian redis-server binary and the libraries it links.
# Where a registry is reachable, the compose file can use redis:7-bookworm instead (--redis-image).
set -euo pipefail
cd "$(dirname "$0")/.."
TAG="${1:-localhost/astral-redis:7}"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/.astral/containers.conf}"
podman image exists node:20-bookworm-slim || scripts/build-base-image.sh
if podman image exists "$TAG" && [ "${FORCE:-0}" != 1 ]; then echo "build-redis-image: $TAG exists"; exit 0; fi
BIN=$(command -v redis-server) || { echo "build-redis-image: apt-get install -y redis-server first" >&2; exit 1; }
CTX=$(mktemp -d /tmp/astral-redis.XXXXXX); trap 'rm -rf "$CTX"' EXIT
install -D -m 0755 "$(readlink -f "$BIN")" "$CTX/root/usr/bin/redis-server"
ldd "$BIN" | awk '/=> \//{print $3}' | while read -r lib; do install -D -m 0644 "$(readlink -f "$lib")" "$CTX/root/opt/redis-libs$lib"; done
cat >"$CTX/Dockerfile" <<'DOCKERFILE'
FROM node:20-bookworm-slim
COPY root/ /
# Libraries the base image lacks only: never overwrite its own.
RUN set -e; cd /opt/redis-libs; find . -type f | while read -r f; do [ -e "/$f" ] || install -D "$f" "/$f"; done; \
    rm -rf /opt/redis-libs; groupadd -r -g 10002 redis; useradd -r -u 10002 -g redis -d /data redis; \
    mkdir -p /data; chown redis:redis /data; redis-server --version
LABEL org.opencontainers.image.title="astral-redis" org.opencontainers.image.description="redis-server for the Astral testbed"
USER 10002:10002
WORKDIR /data
EXPOSE 6379
ENTRYPOINT ["/usr/bin/tini", "--", "redis-server"]
CMD ["--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no"]
DOCKERFILE
podman build --pull=never --format docker -t "$TAG" "$CTX"
