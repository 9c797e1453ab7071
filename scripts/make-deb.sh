#!/bin/sh
# Build the Debian package: build-deb/tandem_VERSION_ARCH.deb
#   scripts/make-deb.sh [BUILD_DIR]
# Installs the build dependencies (scripts/install-deps.sh), builds a
# Release tandemd and tandemctl with /usr as prefix (so /etc/tandem is the
# configuration directory) and runs cpack's DEB generator.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$src/build-deb}
"$src/scripts/install-deps.sh" build
command -v dpkg-shlibdeps >/dev/null || "$src/scripts/install-deps.sh" build
cmake -S "$src" -B "$out" -DCMAKE_BUILD_TYPE=Release -DTANDEM_TESTS=OFF \
	-DCMAKE_INSTALL_PREFIX=/usr >/dev/null
cmake --build "$out" -j"$(nproc)" --target tandemd tandemctl
(cd "$out" && cpack -G DEB >/dev/null)
ls "$out"/tandem_*.deb
