#!/usr/bin/env bash
# Sets up a Debian machine for Hangar: LXD, Chromium (for the end-to-end
# tests), openssl, and the npm dependencies, including Electron's binary
# where it can be downloaded (web mode is used where it cannot).
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

need=()
command -v lxd >/dev/null 2>&1 || need+=(lxd)
command -v lxc >/dev/null 2>&1 || need+=(lxd-client)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# xz builds the simplestreams test image (root.tar.xz, lxd.tar.xz), as the image servers ship it.
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
# Image imports read zstd and bzip2 tarballs with the tools LXD itself uses; the
# import tests also build a squashfs rootfs.
command -v zstd >/dev/null 2>&1 || need+=(zstd)
command -v bzip2 >/dev/null 2>&1 || need+=(bzip2)
command -v mksquashfs >/dev/null 2>&1 || need+=(squashfs-tools)
# debootstrap builds the real-sized Debian image of `npm run bench` (import/export).
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v node >/dev/null 2>&1 || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

node_ok=$(node -e 'const [a, b] = process.versions.node.split(".").map(Number); console.log(a > 20 || (a === 20 && b >= 19) ? 1 : 0)')
if [ "$node_ok" != 1 ]; then
  echo "Hangar needs Node.js 20.19 or newer; this machine has $(node --version)." >&2
  exit 1
fi

if [ "${CI:-}" = "true" ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # Electron's binary is fetched separately below, so a machine without access
  # to its download host still gets every other dependency.
  ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
if ! node -e "require('electron')" >/dev/null 2>&1; then
  node node_modules/electron/install.js >/dev/null 2>&1 ||
    echo "Electron's binary could not be downloaded here: npm start will open Hangar in the browser (web mode)."
fi
