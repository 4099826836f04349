#!/usr/bin/env bash
# Installs every Debian package P2C2R needs to build, test and run.
# Idempotent; run as root on Debian 12 (bookworm).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libvulkan-dev vulkan-tools mesa-vulkan-drivers vulkan-validationlayers
  glslang-tools spirv-tools libspirv-cross-c-shared-dev spirv-cross
  libcurl4-openssl-dev libsqlite3-dev libsodium-dev
  libboost-program-options-dev libboost-dev libboost-system-dev
  libssl-dev nlohmann-json3-dev libseccomp-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libpng-dev libturbojpeg0-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# lavapipe comes from bookworm-backports (Mesa 25): its llvmpipe runs the kernels
# 1.3-2x faster than bookworm's Mesa 22.3 and loads uniform addresses once even
# inside loops (docs/building.md). Debian 13 ships Mesa 25 itself.
mesa_backports=0
if grep -q '^VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
  mesa_version=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  if [ -z "$mesa_version" ] || ! dpkg --compare-versions "$mesa_version" ge 25; then
    mesa_backports=1
  fi
fi

if [ ${#missing[@]} -eq 0 ] && [ "$mesa_backports" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: missing packages: ${missing[*]}; Mesa from bookworm-backports" \
    "needed: $mesa_backports; run as root to install them" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if [ "$mesa_backports" -eq 1 ] &&
  ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "deb http://deb.debian.org/debian bookworm-backports main" \
    >/etc/apt/sources.list.d/bookworm-backports.list
fi
apt-get update
# Bookworm's packages first, then Mesa upgraded from backports (with the
# libdrm and Mesa libraries it needs from there too).
if [ ${#missing[@]} -gt 0 ]; then
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
if [ "$mesa_backports" -eq 1 ]; then
  apt-get install -y --no-install-recommends -t bookworm-backports mesa-vulkan-drivers
fi
