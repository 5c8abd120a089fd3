#!/usr/bin/env bash
# Installs Mesa's lavapipe (a CPU Vulkan driver) so the webgpu backend's tests run without a
# GPU. Dawn refuses bookworm's own Mesa 22.3, so the driver comes from bookworm-backports
# (Mesa 25). Dawn also loads the glvnd libraries at start.
#
# Idempotent: when the Vulkan loader and a lavapipe ICD newer than 22 are present it does
# nothing (well under a second). apt runs under a lock because several checkouts share the host.
set -euo pipefail

log() { printf '[lavapipe] %s\n' "$*" >&2; }

PACKAGES=(libvulkan1 mesa-vulkan-drivers libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2)
BACKPORTS=/etc/apt/sources.list.d/bookworm-backports.sources

installed() {
  local p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || return 1
  done
  # The backports build is 25.x; bookworm's 22.x loads but Dawn rejects its adapter.
  local mesa
  mesa="$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
  [[ "${mesa%%.*}" =~ ^[0-9]+$ ]] && (( ${mesa%%.*} >= 24 ))
}

if installed; then exit 0; fi

command -v apt-get >/dev/null || { log "apt-get not found: install Mesa >= 24 lavapipe and libvulkan1 by hand"; exit 1; }
SUDO=""
[[ "$(id -u)" == 0 ]] || SUDO="sudo"

if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  log "adding bookworm-backports to apt sources ($BACKPORTS)"
  $SUDO tee "$BACKPORTS" >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

log "installing ${PACKAGES[*]} (mesa from bookworm-backports)"
(
  flock 9
  $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends \
    -t bookworm-backports "${PACKAGES[@]}" >&2
) 9>/tmp/apt.lock

installed || { log "lavapipe still missing after install"; exit 1; }
