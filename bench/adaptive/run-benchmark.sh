#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Adaptive builds against the usual ways of building, in a memory cgroup too
# small for two heavy jobs at once: does the build survive, how many OOM
# kills, how long.
#
#   bench/adaptive/run-benchmark.sh [--runs N] [--limit MIB] [--heavy N]
#                                   [--heavy-mib MIB] [--light N]
#                                   [--build-dir DIR] [--headroom PATH]
#                                   [--only LIST] [--keep]
#
#   --runs N         builds per configuration (default 5)
#   --limit MIB      the cgroup's memory.limit_in_bytes (default: the peak of
#                    a -j1 build, measured first, plus half a heavy job: one
#                    heavy job fits, two do not)
#   --heavy N        heavy units: build scripts that touch MIB and hold it 2 s
#                    (default 4)
#   --heavy-mib MIB  what each heavy unit touches (default 350)
#   --light N        light units: small crates whose build scripts sleep
#                    0.5-1 s (default 8)
#   --build-dir DIR  headroom and headroom-cli from DIR/app, DIR/cli
#                    (default build/dev)
#   --headroom PATH  this headroom binary instead (headroom-cli beside it or
#                    in DIR/cli)
#   --only LIST      comma-separated configurations to run, of: default, j1,
#                    auto, adaptive, unconstrained, concurrent (default all)
#   --keep           leave the temporary folder (workspace, logs) behind
#
# Configurations, each --runs times from a clean target folder:
#   default        cargo build (cargo's own -j: one job per CPU) in the cgroup
#   j1             CARGO_BUILD_JOBS=1 cargo build in the cgroup
#   auto           headroom build --preset auto in the cgroup
#   adaptive       headroom build --preset adaptive in the cgroup; the learned
#                  peaks start empty and are kept from run to run
#   unconstrained  cargo build outside the cgroup (the machine's memory)
# Then, once: 3 concurrent adaptive builds (each its own copy of the
# workspace) against 3 concurrent default builds, in the same cgroup.
#
# Printed per configuration: builds that succeeded, OOM kills (the cgroup's
# memory.oom_control oom_kill and /proc/vmstat oom_kill, both as deltas), the
# median wall time of the successful builds, and the cgroup's peak usage.
# Figures, not assertions: nothing here passes or fails on them.
#
# Needs root (it makes a v1 memory cgroup under /sys/fs/cgroup/memory, nested
# in the one it runs in, and removes it at the end) and cargo (offline: the
# workspace has no dependencies). HEADROOM_RUNS_DIR, HEADROOM_POOL_DIR,
# HEADROOM_PEAKS_FILE and the history point into the temporary folder, so
# the user's own are never touched.
# Exit status: 0 measured, 1 something is missing or failed to set up, 2 bad
# arguments.
set -euo pipefail

usage() { sed -n '3,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
bad() {
    echo "run-benchmark.sh: $*" >&2
    echo "run 'run-benchmark.sh --help' for the options" >&2
    exit 2
}
die() { echo "run-benchmark.sh: $*" >&2; exit 1; }

command_line="bench/adaptive/run-benchmark.sh $*"
runs=5
limit_mib=
heavy=4
heavy_mib=350
light=8
build=build/dev
headroom=
only=default,j1,auto,adaptive,unconstrained,concurrent
keep=0
number() { [[ $2 =~ ^[0-9]+$ && $2 -ge ${3:-1} ]] || bad "$1 needs a whole number of at least ${3:-1}, not '$2'"; }
while [[ $# -gt 0 ]]; do
    case $1 in
    --runs | --limit | --heavy | --heavy-mib | --light | --build-dir | --headroom | --only)
        [[ $# -ge 2 ]] || bad "$1 needs a value"
        case $1 in
        --runs) number "$1" "$2"; runs=$2 ;;
        --limit) number "$1" "$2" 64; limit_mib=$2 ;;
        --heavy) number "$1" "$2"; heavy=$2 ;;
        --heavy-mib) number "$1" "$2" 16; heavy_mib=$2 ;;
        --light) number "$1" "$2" 0; light=$2 ;;
        --build-dir) build=$2 ;;
        --headroom) headroom=$2 ;;
        --only) only=$2 ;;
        esac
        shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) bad "unknown argument '$1'" ;;
    esac
done
for c in ${only//,/ }; do
    case $c in default | j1 | auto | adaptive | unconstrained | concurrent) ;; *) bad "--only: unknown configuration '$c'" ;; esac
done
wants() { [[ ",$only," == *",$1,"* ]]; }

[[ $(id -u) -eq 0 ]] || die "needs root: it makes a memory cgroup"
command -v cargo >/dev/null || die "cargo is not on PATH"
[[ -n $headroom ]] || headroom=$build/app/headroom
cli=$(dirname "$headroom")/headroom-cli
[[ -x $cli ]] || cli=$build/cli/headroom-cli
if wants auto || wants adaptive || wants concurrent; then
    [[ -x $headroom ]] || die "no headroom at $headroom (cmake --build $build --target headroom headroom-cli)"
    [[ -x $cli ]] || die "no headroom-cli beside it or at $build/cli"
    headroom=$(realpath "$headroom")
    cli=$(realpath "$cli")
fi

# The v1 memory hierarchy, and the group this shell runs in (nested there,
# so whatever limit holds this shell still holds the benchmark).
memroot=/sys/fs/cgroup/memory
[[ -f $memroot/memory.limit_in_bytes ]] || die "no v1 memory cgroup at $memroot"
own=$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
cg=$memroot${own%/}/headroom-bench-$$
work=$(mktemp -d /tmp/headroom-adaptive.XXXXXX)
cleanup() {
    set +e
    if [[ -d $cg ]]; then
        # Anything left in the group (a build that outlived its run) is ours: stop it.
        for pid in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        sleep 0.5
        rmdir "$cg" 2>/dev/null || echo "run-benchmark.sh: could not remove $cg" >&2
    fi
    if [[ $keep -eq 1 ]]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
mkdir "$cg" || die "cannot make the cgroup $cg"

export HEADROOM_RUNS_DIR=$work/state/runs HEADROOM_POOL_DIR=$work/state/pool HEADROOM_PEAKS_FILE=$work/state/peaks.json
export XDG_DATA_HOME=$work/state/data XDG_CONFIG_HOME=$work/state/config XDG_CACHE_HOME=$work/state/cache
export CARGO_TERM_COLOR=never CARGO_TERM_PROGRESS_WHEN=never CARGO_NET_OFFLINE=true
mkdir -p "$HEADROOM_RUNS_DIR" "$HEADROOM_POOL_DIR" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
history=$work/state/history.sqlite

# --- the workspace -----------------------------------------------------------
# heavy_i: a build script that touches heavy_mib MiB and holds it 2 s;
# light_i: a small crate whose build script sleeps 0.5-1 s; app uses them all.
make_workspace() {
    local dir=$1 i members=() deps=""
    mkdir -p "$dir"
    for ((i = 0; i < heavy; i++)); do
        members+=("\"heavy_$i\"")
        deps+="heavy_$i = { path = \"../heavy_$i\" }"$'\n'
        mkdir -p "$dir/heavy_$i/src"
        printf '[package]\nname = "heavy_%d"\nversion = "0.1.0"\nedition = "2021"\nbuild = "build.rs"\n' "$i" \
            >"$dir/heavy_$i/Cargo.toml"
        cat >"$dir/heavy_$i/build.rs" <<EOF
// Touches $heavy_mib MiB and holds it, as a heavy code generator or bindgen run would.
fn main() {
    let bytes: usize = $heavy_mib * 1024 * 1024;
    let mut v: Vec<u8> = Vec::with_capacity(bytes);
    v.resize(bytes, 1);
    let mut sum = 0u64;
    for i in (0..bytes).step_by(4096) { sum += v[i] as u64; }
    std::thread::sleep(std::time::Duration::from_millis(2000));
    println!("cargo:rustc-env=HEAVY_SUM_$i={}", std::hint::black_box(sum) + v[bytes - 1] as u64);
    println!("cargo:rerun-if-changed=build.rs");
}
EOF
        printf 'pub fn value() -> u64 { env!("HEAVY_SUM_%d").parse().unwrap() }\n' "$i" >"$dir/heavy_$i/src/lib.rs"
    done
    for ((i = 0; i < light; i++)); do
        members+=("\"light_$i\"")
        deps+="light_$i = { path = \"../light_$i\" }"$'\n'
        mkdir -p "$dir/light_$i/src"
        printf '[package]\nname = "light_%d"\nversion = "0.1.0"\nedition = "2021"\nbuild = "build.rs"\n' "$i" \
            >"$dir/light_$i/Cargo.toml"
        cat >"$dir/light_$i/build.rs" <<EOF
fn main() {
    std::thread::sleep(std::time::Duration::from_millis($((500 + (i * 500) / (light > 1 ? light - 1 : 1)))));
    println!("cargo:rerun-if-changed=build.rs");
}
EOF
        cat >"$dir/light_$i/src/lib.rs" <<EOF
pub fn value(n: u64) -> u64 {
    (0..n).map(|k| k.wrapping_mul($((i + 3))) ^ (k >> 2)).fold($i, |a, b| a.wrapping_add(b))
}
EOF
    done
    members+=("\"app\"")
    mkdir -p "$dir/app/src"
    printf '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n%s' "$deps" \
        >"$dir/app/Cargo.toml"
    {
        echo "fn main() {"
        echo "    let mut total = 0u64;"
        for ((i = 0; i < heavy; i++)); do echo "    total = total.wrapping_add(heavy_$i::value());"; done
        for ((i = 0; i < light; i++)); do echo "    total = total.wrapping_add(light_$i::value(1000));"; done
        echo '    println!("{total}");'
        echo "}"
    } >"$dir/app/src/main.rs"
    local IFS=,
    printf '[workspace]\nresolver = "2"\nmembers = [%s]\n' "${members[*]}" >"$dir/Cargo.toml"
    (cd "$dir" && cargo generate-lockfile --offline -q)
}

# --- measuring ---------------------------------------------------------------
oom_group() { awk '$1 == "oom_kill" { print $2 }' "$cg/memory.oom_control"; }
oom_machine() { awk '$1 == "oom_kill" { print $2 }' /proc/vmstat; }
now() { date +%s.%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) printf "%.1f", a[(NR + 1) / 2]; else printf "%.1f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
mib() { echo $((($1 + 1048575) / 1048576)); }

# Runs "$@" in the cgroup (a subshell that moves itself in first); the
# command's exit status is returned.
in_group() { (echo $BASHPID >"$cg/cgroup.procs" && exec "$@"); }

# One build of one configuration in folder $1; log in $2. Prints nothing.
build_once() {
    local config=$1 dir=$2 log=$3
    case $config in
    default) in_group cargo build --offline --manifest-path "$dir/Cargo.toml" ;;
    j1) in_group env CARGO_BUILD_JOBS=1 cargo build --offline --manifest-path "$dir/Cargo.toml" ;;
    unconstrained) cargo build --offline --manifest-path "$dir/Cargo.toml" ;;
    auto | adaptive)
        in_group "$headroom" build --project "$dir" --preset "$config" --profile dev --history "$history" \
            --on-interrupt stop ;;
    esac >"$log" 2>&1
}

results=()
# run_config NAME: --runs builds, clean before each; one line into results.
run_config() {
    local config=$1 ok=0 i start end rc
    local dir=$work/ws times=() g0 m0 peak=0
    [[ $config == adaptive ]] && rm -f "$HEADROOM_PEAKS_FILE"
    g0=$(oom_group)
    m0=$(oom_machine)
    for ((i = 1; i <= runs; i++)); do
        cargo clean --offline -q --manifest-path "$dir/Cargo.toml"
        echo 0 >"$cg/memory.max_usage_in_bytes" 2>/dev/null || true
        start=$(now)
        rc=0
        build_once "$config" "$dir" "$work/logs/$config-$i.log" || rc=$?
        end=$(now)
        local used
        used=$(cat "$cg/memory.max_usage_in_bytes")
        if [[ $config != unconstrained ]] && ((used > peak)); then peak=$used; fi
        if [[ $rc -eq 0 ]]; then
            ok=$((ok + 1))
            times+=("$(echo "$end - $start" | bc)")
        fi
        printf '  %-13s run %d: %s, %.1f s, cgroup peak %d MiB\n' "$config" "$i" \
            "$([[ $rc -eq 0 ]] && echo ok || echo "failed ($rc)")" "$(echo "$end - $start" | bc)" "$(mib "$used")" >&2
        # What the pool did, in its own words (the supervisor's log lines).
        if [[ $config == adaptive ]]; then
            grep -a 'Headroom: pool' "$work/logs/$config-$i.log" | sed 's/^/      /' | tail -n 4 >&2 || true
        fi
    done
    local med
    med=$(printf '%s\n' "${times[@]}" | grep . | median || true)
    local group=$(($(oom_group) - g0)) machine=$(($(oom_machine) - m0))
    local peak_text="$(mib "$peak") MiB"
    if [[ $config == unconstrained ]]; then group="-" peak_text="-"; fi
    results+=("$(printf '%-14s %3d/%-3d %9s %11s %10s %12s' "$config" "$ok" "$runs" "$group" "$machine" "$med" "$peak_text")")
}

# --- the machine -------------------------------------------------------------
mkdir -p "$work/logs"
make_workspace "$work/ws"
cpus=$(nproc)
ram=$(awk '/^MemTotal:/ { printf "%.0f", $2 * 1024 }' /proc/meminfo)
echo "$command_line"
echo "machine: $cpus CPUs, $(mib "$ram") MiB RAM, $(uname -sr), $(cargo --version)"
echo "workspace: $heavy heavy units (build scripts touching $heavy_mib MiB for 2 s), $light light units, 1 binary"

if [[ -z $limit_mib ]]; then
    # The peak of a one-job build, measured in the group without a limit.
    cargo clean --offline -q --manifest-path "$work/ws/Cargo.toml"
    echo 0 >"$cg/memory.max_usage_in_bytes" 2>/dev/null || true
    in_group env CARGO_BUILD_JOBS=1 cargo build --offline --manifest-path "$work/ws/Cargo.toml" >"$work/logs/calibrate.log" 2>&1 ||
        die "the workspace does not build (see $work/logs/calibrate.log)"
    one=$(cat "$cg/memory.max_usage_in_bytes")
    limit_mib=$(($(mib "$one") + heavy_mib / 2))
    echo "calibration: a -j1 build peaks at $(mib "$one") MiB in the cgroup"
fi
echo $((limit_mib * 1048576)) >"$cg/memory.limit_in_bytes"
echo "cgroup: $cg, memory.limit_in_bytes $limit_mib MiB (one heavy unit fits, two do not)"
echo

header=$(printf '%-14s %7s %9s %11s %10s %12s' config ok "oom(cg)" "oom(vmstat)" "median s" "peak")
for config in default j1 auto adaptive unconstrained; do
    wants "$config" || continue
    echo "== $config" >&2
    run_config "$config"
done
echo "$header"
printf '%s\n' "${results[@]}"

# --- three at once -----------------------------------------------------------
if wants concurrent; then
    echo
    echo "3 builds at once in the same cgroup (each its own copy of the workspace):"
    printf '%-14s %7s %9s %11s %10s\n' config ok "oom(cg)" "oom(vmstat)" "wall s"
    for config in adaptive default; do
        echo "== 3 x $config" >&2
        [[ $config == adaptive ]] && rm -f "$HEADROOM_PEAKS_FILE"
        for k in 1 2 3; do
            [[ -d $work/ws-$k ]] || cp -r "$work/ws" "$work/ws-$k"
            cargo clean --offline -q --manifest-path "$work/ws-$k/Cargo.toml"
        done
        g0=$(oom_group)
        m0=$(oom_machine)
        start=$(now)
        pids=()
        for k in 1 2 3; do
            build_once "$config" "$work/ws-$k" "$work/logs/concurrent-$config-$k.log" &
            pids+=($!)
        done
        ok=0
        for p in "${pids[@]}"; do wait "$p" && ok=$((ok + 1)) || true; done
        end=$(now)
        printf '%-14s %3d/%-3d %9s %11s %10.1f\n' "3 x $config" "$ok" 3 $(($(oom_group) - g0)) \
            $(($(oom_machine) - m0)) "$(echo "$end - $start" | bc)"
    done
fi
