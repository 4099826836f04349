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

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: missing packages: ${missing[*]}; run as root to install them" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi
