#!/usr/bin/env bash
# Regenerates fixtures/sample.flv: 12 s of H.264 (640x360, 25 fps, a keyframe every second) and AAC, about 1.5 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
ffmpeg -v error -y -f lavfi -i "testsrc2=size=640x360:rate=25" -f lavfi -i "sine=frequency=440:sample_rate=44100" -t 12 \
  -c:v libx264 -preset veryfast -profile:v main -pix_fmt yuv420p -b:v 900k -maxrate 1000k -bufsize 1000k \
  -g 25 -keyint_min 25 -sc_threshold 0 -c:a aac -b:a 96k -ac 2 -f flv fixtures/sample.flv
