#!/bin/sh
# Installs what `npm run bench -- peers` and `npm run bench:all` need beyond `npm test`'s dependencies:
# nginx with the RTMP module (Debian packages nginx + libnginx-mod-rtmp) and ffmpeg. Idempotent: does
# nothing when they are present. It never starts the system nginx service: the benches run their own
# nginx processes (-p <tmpdir> -g 'daemon off;') on loopback and free ports.
set -eu
need=""
[ -x /usr/sbin/nginx ] || need="$need nginx"
[ -f /usr/lib/nginx/modules/ngx_rtmp_module.so ] || need="$need libnginx-mod-rtmp"
command -v ffmpeg >/dev/null 2>&1 || need="$need ffmpeg"
if [ -z "$need" ]; then
  echo "install-bench-deps: nginx, libnginx-mod-rtmp and ffmpeg are installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-bench-deps: missing:$need; run as root, or: sudo apt-get install -y$need" >&2
  exit 1
fi
# policy-rc.d exit 101 keeps the package scripts from starting the nginx service during the install.
policy=/usr/sbin/policy-rc.d
created_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
fi
trap 'if [ -n "$created_policy" ]; then rm -f "$policy"; fi' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $need
echo "install-bench-deps: installed$need"
