#!/usr/bin/env bash
# Unpacks Mesa 25 lavapipe (the Vulkan driver that runs on the CPU) and the Vulkan loader
# from Debian bookworm-backports into a cache folder, with no system install and no change
# to /etc/apt. Needs root-free apt-get + dpkg-deb and network access to a Debian mirror.
#
# Usage: tools/lavapipe/get-lavapipe.sh [DEST=.cache/lavapipe]
# Then:  source DEST/env.sh   (sets VK_ICD_FILENAMES and LD_LIBRARY_PATH)
set -euo pipefail
DEST=$(realpath -m "${1:-.cache/lavapipe}")
if [ -f "$DEST/env.sh" ]; then echo "lavapipe already unpacked in $DEST"; exit 0; fi
mkdir -p "$DEST/apt/lists/partial" "$DEST/apt/cache/archives/partial" "$DEST/debs" "$DEST/root"

# The mirror this machine already uses (first non-security Debian URI).
MIRROR=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
  | sed -E 's/^(URIs:|deb)[[:space:]]+(\[[^]]*\][[:space:]]+)?//' | awk '{print $1}' \
  | grep -v -- '-security' | grep debian | head -n 1 || true)
[ -n "$MIRROR" ] || { echo "get-lavapipe: no Debian mirror found in /etc/apt; set one up or run on Debian" >&2; exit 1; }

# A private apt state: bookworm (for the loader and libraries) + bookworm-backports (Mesa 25).
printf 'deb %s bookworm main\ndeb %s bookworm-backports main\n' "$MIRROR" "$MIRROR" > "$DEST/apt/sources.list"
APT=(-o Dir::Etc::SourceList="$DEST/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
     -o Dir::State::Lists="$DEST/apt/lists" -o Dir::Cache="$DEST/apt/cache" -o Debug::NoLocking=1)
apt-get "${APT[@]}" update -qq

# Mesa's Vulkan drivers, their backports-only libraries, and the Vulkan loader (libvulkan.so.1)
# that Dawn (the WebGPU implementation inside onnxruntime) dlopens.
PACKAGES=(mesa-vulkan-drivers/bookworm-backports libdrm2/bookworm-backports
          libdrm-amdgpu1/bookworm-backports libvulkan1)
( cd "$DEST/debs" && apt-get "${APT[@]}" download "${PACKAGES[@]}" )
for deb in "$DEST"/debs/*.deb; do dpkg-deb -x "$deb" "$DEST/root"; done

# Pull in any shared library the driver still lacks on this machine (LLVM, xcb, ...), one level at a time.
LIBDIR="$DEST/root/usr/lib/x86_64-linux-gnu"
for _ in 1 2 3; do
  MISSING=$(LD_LIBRARY_PATH="$LIBDIR" ldd "$LIBDIR/libvulkan_lvp.so" | awk '/not found/{print $1}' | sort -u)
  [ -z "$MISSING" ] && break
  PKGS=$(for lib in $MISSING; do apt-cache "${APT[@]}" search --names-only "^$(echo "$lib" | sed -E 's/\.so\.([0-9]+).*/\1/; s/\.so$//' | tr '_' '-')$" | awk '{print $1}' | head -n 1; done | sort -u)
  [ -z "$PKGS" ] && { echo "get-lavapipe: cannot find packages for: $MISSING" >&2; exit 1; }
  ( cd "$DEST/debs" && apt-get "${APT[@]}" download $PKGS )
  for deb in "$DEST"/debs/*.deb; do dpkg-deb -x "$deb" "$DEST/root"; done
done

printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.4.305"}}\n' \
  "$LIBDIR/libvulkan_lvp.so" > "$DEST/lvp_icd.json"
cat > "$DEST/env.sh" <<ENV
export VK_ICD_FILENAMES="$DEST/lvp_icd.json"
export VK_DRIVER_FILES="$DEST/lvp_icd.json"
export LD_LIBRARY_PATH="$LIBDIR\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
ENV
echo "lavapipe ready: source $DEST/env.sh"
