#!/usr/bin/env bash
# Installs, idempotently, everything Tapedeck needs that npm alone does not bring, then the npm
# packages and the TypeScript build. A second run only checks and takes seconds.
#
#   Debian packages   infra/apt-packages.txt (GStreamer 1.22 and its typelibs, ffmpeg)
#   Go-built servers  temporal CLI (dev server), fake-gcs-server, the pstest Pub/Sub emulator,
#                     cached in .tools/bin (git-ignored); a binary already on PATH is used instead
#   native helper     .tools/lib/libtapedeck-opus-size-cache.so (infra/native/opus-size-cache.c),
#                     preloaded into pipeline hosts, built with the C compiler g++ brings
#   npm packages      npm ci when package-lock.json changed since the last install
#   build             tsc into dist/
#
# Environment: TAPEDECK_SKIP_APT=1 skips the Debian package step (for machines managed elsewhere).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$root/.tools/bin"
mkdir -p "$tools"

TEMPORAL_CLI_VERSION=v1.5.1
FAKE_GCS_VERSION=v1.55.1
GSTREAMER_SERIES=1.22

step() { printf '[install] %s\n' "$*"; }
fail() { printf '[install] error: %s\n' "$*" >&2; exit 1; }

# --- Node --------------------------------------------------------------------------------------
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] || fail "Node.js 20 or later is required (found: $(node --version 2>/dev/null || echo none))"

# --- Debian packages ---------------------------------------------------------------------------
if [ "${TAPEDECK_SKIP_APT:-0}" != 1 ]; then
  mapfile -t pkgs < <(grep -v '^\s*#' "$root/infra/apt-packages.txt" | sed '/^\s*$/d')
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    if [ "$(id -u)" -eq 0 ]; then
      step "installing Debian packages: ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      step "installing Debian packages with sudo: ${missing[*]}"
      sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq
      sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      fail "missing Debian packages and no root. Run this, then try again:
  sudo sh -c '$cmd'"
    fi
  fi
  gst_version=$(gst-inspect-1.0 --version | sed -n 's/^GStreamer \([0-9]*\.[0-9]*\).*/\1/p' | head -n1)
  [ "$gst_version" = "$GSTREAMER_SERIES" ] || fail "GStreamer $GSTREAMER_SERIES expected, found '$gst_version'"
fi

# --- Go-built servers --------------------------------------------------------------------------
# build_tool NAME VERSION COMMAND...: runs COMMAND (which writes $tools/NAME) unless the cached
# build is stamped with VERSION.
build_tool() {
  local name=$1 version=$2; shift 2
  if [ -x "$tools/$name" ] && [ "$(cat "$tools/$name.version" 2>/dev/null)" = "$version" ]; then
    return 0
  fi
  command -v go >/dev/null || fail "Go is needed to build $name $version (https://go.dev/doc/install)"
  step "building $name $version into .tools/bin (first run only)"
  "$@"
  printf '%s\n' "$version" > "$tools/$name.version"
}

if command -v temporal >/dev/null; then
  step "using temporal on PATH: $(command -v temporal)"
else
  build_tool temporal "$TEMPORAL_CLI_VERSION" \
    env GOBIN="$tools" GOFLAGS=-buildvcs=false go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
fi

if command -v fake-gcs-server >/dev/null; then
  step "using fake-gcs-server on PATH: $(command -v fake-gcs-server)"
else
  build_tool fake-gcs-server "$FAKE_GCS_VERSION" \
    env GOBIN="$tools" GOFLAGS=-buildvcs=false go install "github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION"
fi

# The pstest emulator is small and always built, so the fallback stays tested where the Google
# Cloud CLI's emulator is installed too. Its stamp is the hash of its sources.
pstest_hash=$(cat "$root"/infra/pubsub-emulator/{go.mod,go.sum,main.go} | sha256sum | cut -c1-16)
build_tool pubsub-emulator "$pstest_hash" \
  sh -c "cd '$root/infra/pubsub-emulator' && GOFLAGS=-buildvcs=false go build -o '$tools/pubsub-emulator' ."

# --- Native helper -----------------------------------------------------------------------------
# The pipeline hosts' LD_PRELOAD (pipelines/supervisor.ts); stamped with the hash of its source.
native="$root/.tools/lib"
opus_src="$root/infra/native/opus-size-cache.c"
opus_lib="$native/libtapedeck-opus-size-cache.so"
opus_hash=$(sha256sum "$opus_src" | cut -c1-16)
if [ ! -f "$opus_lib" ] || [ "$(cat "$opus_lib.version" 2>/dev/null)" != "$opus_hash" ]; then
  cc=$(command -v cc || command -v gcc || true)
  [ -n "$cc" ] || fail "a C compiler is needed to build $opus_lib (Debian: g++ in infra/apt-packages.txt brings one)"
  step "building .tools/lib/libtapedeck-opus-size-cache.so"
  mkdir -p "$native"
  "$cc" -shared -fPIC -O2 -Wall -Wextra -Werror -o "$opus_lib.tmp" "$opus_src" -ldl
  mv "$opus_lib.tmp" "$opus_lib"
  printf '%s\n' "$opus_hash" > "$opus_lib.version"
fi

# --- npm packages and build --------------------------------------------------------------------
lock_hash=$(sha256sum "$root/package-lock.json" | cut -c1-16)
if [ "$(cat "$root/node_modules/.tapedeck-lock" 2>/dev/null)" != "$lock_hash" ]; then
  step "installing npm packages (npm ci)"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
  printf '%s\n' "$lock_hash" > "$root/node_modules/.tapedeck-lock"
fi

step "building TypeScript"
(cd "$root" && npx --no-install tsc -p tsconfig.json)
step "ready"
