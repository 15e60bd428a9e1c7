#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Renders the README screenshots: the dashboard beside a staged scene of
# builds (copies of the test helper fakeproc named cargo, rustc, ld.lld...,
# each holding real memory), in the light and the dark palette.
#
#   bench/dashboard/make-screenshot.sh [BUILD_DIR] [OUT_DIR]
#
# Works without a display (QT_QPA_PLATFORM=offscreen). Takes about 80 s.
set -euo pipefail

build=${1:-build/dev}
out=${2:-docs/screenshots}
fakeproc=$build/tests/fakeproc
headroom=$build/app/headroom
[[ -x $fakeproc && -x $headroom ]] || { echo "build $fakeproc and $headroom first" >&2; exit 1; }
mkdir -p "$out"

scene=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
    rm -rf "$scene"
}
trap cleanup EXIT

bin=$scene/bin
mkdir -p "$bin" "$scene/home/src/tsz/crates/cli" "$scene/home/src/pyphi"
for name in cargo rustc cc ld.lld build-script-build cargo-nextest code pyphi_validation-4f1c2a9e; do
    cp "$fakeproc" "$bin/$name"
done
printf '[workspace]\nmembers = ["crates/*"]\n' >"$scene/home/src/tsz/Cargo.toml"
printf '[package]\nname = "cli"\n' >"$scene/home/src/tsz/crates/cli/Cargo.toml"
printf '[package]\nname = "pyphi"\n' >"$scene/home/src/pyphi/Cargo.toml"

# Each part of the scene runs in its own process group so cleanup takes it whole.
stage() { # DIR PROGRAM ARGS...
    local dir=$1
    shift
    (cd "$dir" && exec setsid "$@" --sleep 900 >/dev/null 2>&1) &
    pids+=($!)
}

export HOME=$scene/home XDG_CONFIG_HOME=$scene/config XDG_DATA_HOME=$scene/data
export QT_QPA_PLATFORM=offscreen

stage "$HOME" "$bin/code" --mem 380 .
stage "$HOME/src/tsz" "$bin/cargo" build --profile dist-fast -p tsz-cli --mem 90 \
    { rustc --crate-name tsz_checker --edition 2021 --mem 1100 } \
    { rustc --crate-name tsz_parser --edition 2021 --mem 650 } \
    { build-script-build --mem 40 }

# Sample for 80 s at 0.5 s while the scene grows.
"$headroom" --interval 0.5 --screenshot "$out/dashboard.png" --after 160 --color-scheme light &
light=$!
"$headroom" --interval 0.5 --screenshot "$out/dashboard-dark.png" --after 160 --color-scheme dark &
dark=$!

sleep 20
# The duplicate build from the user report: a second cargo on the same workspace.
stage "$HOME/src/tsz" "$bin/cargo" build --profile dist-fast -p tsz-cli -p tsz-conformance --mem 80 \
    { rustc --crate-name tsz_cli --edition 2021 --mem 900 { cc -fuse-ld=lld { ld.lld --mem 700 } } }
sleep 20
stage "$HOME/src/pyphi" "$bin/cargo" nextest run --release --mem 60 \
    { cargo-nextest nextest run --mem 40 \
        { pyphi_validation-4f1c2a9e --exact dimensional_sweep --mem 420 } \
        { pyphi_validation-4f1c2a9e --exact topology_check --mem 380 } \
        { pyphi_validation-4f1c2a9e --exact phi_structure --mem 450 } }

wait "$light" "$dark"
echo "wrote $out/dashboard.png and $out/dashboard-dark.png"
