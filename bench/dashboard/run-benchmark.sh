#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The dashboard's cost, measured from the outside next to btop and htop, with
# headroom's window shown on a real (virtual) X server, as on a desktop.
#
#   bench/dashboard/run-benchmark.sh [--minutes N] [--extra N] [--build-dir DIR]
#                                    [--headroom PATH]...
#
#   --minutes N      length of the measured part in minutes, fractions allowed
#                    (0.5, 2, 2.5; default 10)
#   --extra N        sleeping processes started first, so that every program
#                    reads a busy process table (default 1000)
#   --build-dir DIR  measure DIR/app/headroom (default build/dev)
#   --headroom PATH  measure this headroom binary instead; repeat it to measure
#                    two builds in the same run, side by side, under the same
#                    load (columns headroom(A), headroom(B), btop, htop).
#
# Before/after a change: build the old commit in its own worktree, then
#   git worktree add /tmp/headroom-old <old-commit>
#   (cd /tmp/headroom-old && cmake --preset dev && cmake --build build/dev --target headroom)
#   bench/dashboard/run-benchmark.sh --minutes 10 \
#       --headroom /tmp/headroom-old/build/dev/app/headroom --headroom build/dev/app/headroom
# A is the first --headroom, B the second; the legend under the table names
# each binary, and a last line gives B's CPU and RSS against A's. Both run at
# the same time on the same display, so the machine's noise hits them alike;
# differences of a few percent are within that noise.
#
# What runs, all at a 1 s refresh, for MINUTES after 10 s of settling:
#   - Xvfb on a free display (chosen by Xvfb itself, -displayfd), 1920x1080;
#     trayer as the system tray if installed (as on a desktop, headroom then
#     shows its tray icon too); a window manager only if one is installed
#     (none is needed: Qt maps its window on a bare X server); a private D-Bus
#     session bus if dbus-daemon is installed (never the user's);
#   - each headroom with --interval 1 and QT_QPA_PLATFORM=xcb, its window
#     shown (the script checks it is mapped), with its own HOME and XDG dirs;
#   - btop (update_ms = 1000) and htop -d 10 in a private tmux server, with a
#     private HOME and XDG dirs.
# Read from /proc: CPU time (utime + stime) at the start and the end, resident
# memory (VmRSS) every 5 s: start, middle, end, smallest and largest. Printed:
# one table, one column per program, then one verdict line per headroom
# against btop. Figures, not assertions: nothing here passes or fails on them.
#
# Needs Xvfb, btop, htop, tmux and xwininfo/xprop
# (Debian: apt-get install xvfb btop htop tmux x11-utils).
# Exit status: 0 measured, 1 a program is missing or failed, 2 bad arguments.
set -euo pipefail

usage() { sed -n '3,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
bad() { echo "run-benchmark.sh: $*" >&2; echo "run 'run-benchmark.sh --help' for the options" >&2; exit 2; }

command_line="bench/dashboard/run-benchmark.sh $*"
minutes=10
extra=1000
build=build/dev
headrooms=()
while [[ $# -gt 0 ]]; do
    case $1 in
    --minutes | --extra | --build-dir | --headroom)
        [[ $# -ge 2 ]] || bad "$1 needs a value"
        case $1 in
        --minutes) minutes=$2 ;;
        --extra) extra=$2 ;;
        --build-dir) build=$2 ;;
        --headroom) headrooms+=("$2") ;;
        esac
        shift 2 ;;
    --minutes=* | --extra=* | --build-dir=* | --headroom=*)
        value=${1#*=}
        case $1 in
        --minutes=*) minutes=$value ;;
        --extra=*) extra=$value ;;
        --build-dir=*) build=$value ;;
        --headroom=*) headrooms+=("$value") ;;
        esac
        shift ;;
    -h | --help) usage; exit 0 ;;
    *) bad "unknown argument '$1'" ;;
    esac
done

# Plain decimals only: no sign, no exponent, no NaN or inf.
[[ $minutes =~ ^[0-9]+(\.[0-9]+)?$|^\.[0-9]+$ ]] ||
    bad "--minutes wants a positive number of minutes such as 2 or 0.5, not '$minutes'"
total=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 + 0.5 }')
((total >= 10)) || bad "--minutes $minutes is under 10 seconds; give at least 0.17"
((total <= 24 * 3600)) || bad "--minutes $minutes is more than a day"
[[ $extra =~ ^[0-9]+$ ]] || bad "--extra wants a whole number of processes (0 or more), not '$extra'"
extra=$((10#$extra))
pid_max=$(cat /proc/sys/kernel/pid_max 2>/dev/null || echo 32768)
((extra <= 100000 && extra < pid_max / 2)) || bad "--extra $extra is too many for this machine (pid_max $pid_max)"
((${#headrooms[@]} <= 4)) || bad "at most 4 --headroom binaries in one run"
if ((${#headrooms[@]} == 0)); then
    headrooms=("$build/app/headroom")
    [[ -x ${headrooms[0]} ]] ||
        { echo "run-benchmark.sh: build ${headrooms[0]} first (cmake --build $build --target headroom)" >&2; exit 1; }
fi
for i in "${!headrooms[@]}"; do
    path=${headrooms[$i]}
    [[ -f $path && -x $path ]] || bad "--headroom $path is not an executable file"
    headrooms[i]=$(realpath -e -- "$path")
done

missing=()
need() { command -v "$1" >/dev/null || missing+=("$1 (apt-get install $2)"); }
need Xvfb xvfb
need btop btop
need htop htop
need tmux tmux
need pgrep procps
need xwininfo x11-utils
need xprop x11-utils
if ((${#missing[@]})); then
    echo "run-benchmark.sh: missing:" >&2
    printf '  %s\n' "${missing[@]}" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/headroom-bench.XXXXXX")
tmux_socket=headroom-bench-$$
sleepers=
xvfb=
bus=
helpers=()
dashboards=()
names=()
killed=()
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}
stop() {
    local grace=$1 pid tries
    shift
    for pid in "$@"; do [[ -n $pid ]] && kill -TERM "$pid" 2>/dev/null; done
    for pid in "$@"; do
        [[ -n $pid ]] || continue
        for ((tries = 0; tries < grace * 10; tries++)); do alive "$pid" || break; sleep 0.1; done
        if alive "$pid"; then
            echo "run-benchmark.sh: $(cat "/proc/$pid/comm" 2>/dev/null) (pid $pid) did not exit within $grace s of SIGTERM; killing it" >&2
            kill -KILL "$pid" 2>/dev/null
            killed+=("$pid")
        fi
    done
    return 0
}
cleanup() {
    set +e
    tmux -L "$tmux_socket" kill-server 2>/dev/null
    local i pid
    killed=()
    stop 5 "${dashboards[@]}"
    for i in "${!dashboards[@]}"; do
        for pid in "${killed[@]}"; do
            [[ $pid == "${dashboards[$i]}" ]] || continue
            echo "----- the end of ${names[$i]}'s log" >&2
            tail -n 5 "$work/headroom-$i.log" >&2
        done
    done
    stop 3 "${helpers[@]}"
    stop 3 "$bus" "$xvfb"
    [[ -n $sleepers ]] && kill -- "-$sleepers" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM HUP
fail() {
    echo "run-benchmark.sh: $*" >&2
    local log
    for log in "$work"/*.log; do
        [[ -s $log ]] || continue
        echo "----- $(basename "$log") (last 20 lines)" >&2
        tail -n 20 "$log" >&2
    done
    exit 1
}

# Nothing of the user's desktop, bus or settings reaches the programs.
unset DBUS_SESSION_BUS_ADDRESS WAYLAND_DISPLAY SESSION_MANAGER XDG_CURRENT_DESKTOP DESKTOP_SESSION \
    QT_QPA_PLATFORMTHEME QT_QPA_PLATFORM XAUTHORITY TMUX
export NO_AT_BRIDGE=1 LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm-256color
export XDG_RUNTIME_DIR=$work/runtime
mkdir -m 700 "$XDG_RUNTIME_DIR"

# -- The X server: Xvfb picks a free display itself and writes its number. ---
Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp 3>"$work/display" >"$work/xvfb.log" 2>&1 &
xvfb=$!
for ((tries = 0; tries < 100; tries++)); do
    [[ -s $work/display ]] && break
    alive "$xvfb" || fail "Xvfb exited at start"
    sleep 0.1
done
display=$(tr -dc '0-9' <"$work/display")
[[ -n $display ]] || fail "Xvfb did not say which display it took within 10 s"
export DISPLAY=:$display
xwininfo -root >/dev/null 2>&1 || fail "Xvfb on $DISPLAY does not answer"

# -- A private session bus (no service directories: nothing is activated). --
bus_note="no session bus (dbus-daemon not installed)"
if command -v dbus-daemon >/dev/null; then
    cat >"$work/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=$work/runtime</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
    dbus-daemon --config-file="$work/bus.conf" --nofork --print-address=3 3>"$work/bus" >"$work/dbus.log" 2>&1 &
    bus=$!
    for ((tries = 0; tries < 50; tries++)); do [[ -s $work/bus ]] && break; sleep 0.1; done
    [[ -s $work/bus ]] || fail "dbus-daemon did not start"
    DBUS_SESSION_BUS_ADDRESS=$(head -n 1 "$work/bus")
    export DBUS_SESSION_BUS_ADDRESS
    bus_note="private session bus"
else
    # Without a bus address libdbus would try to autolaunch one on the X display.
    export DBUS_SESSION_BUS_ADDRESS=unix:path=$work/runtime/no-bus
fi

# -- A window manager, only if one is installed; trayer as the tray. ---------
wm_note="no window manager"
for wm in openbox fluxbox icewm xfwm4 metacity twm; do
    command -v "$wm" >/dev/null || continue
    "$wm" >"$work/wm.log" 2>&1 &
    helpers+=($!)
    wm_note="window manager $wm"
    sleep 1
    break
done
tray_note="no tray (trayer not installed)"
if command -v trayer >/dev/null; then
    trayer --edge bottom --align right --widthtype pixel --width 200 --height 32 --SetDockType true \
        --transparent false --tint 0x333333 >"$work/trayer.log" 2>&1 &
    helpers+=($!)
    tray_note="trayer as tray"
    sleep 1
    alive "${helpers[-1]}" || tray_note="no tray (trayer exited)"
fi

# -- The extra processes: plain sleeps in one process group. ------------------
setsid bash -c "for i in \$(seq $extra); do sleep 100000 & done; wait" &
sleepers=$!
for ((tries = 0; tries < 600; tries++)); do
    (($(pgrep -c -g "$sleepers" -x sleep || true) >= extra)) && break
    sleep 0.1
done
(($(pgrep -c -g "$sleepers" -x sleep || true) >= extra)) || fail "could not start $extra sleeping processes in 60 s"

# -- The programs. -------------------------------------------------------------
letters=(A B C D)
pids=()
if ((${#headrooms[@]} == 1)); then labels=(headroom); else
    labels=()
    for i in "${!headrooms[@]}"; do labels+=("headroom(${letters[$i]})"); done
fi
for i in "${!headrooms[@]}"; do
    home=$work/home-$i
    mkdir -p "$home/.config" "$home/.local/share" "$home/.cache"
    HOME=$home XDG_CONFIG_HOME=$home/.config XDG_DATA_HOME=$home/.local/share XDG_CACHE_HOME=$home/.cache \
        QT_QPA_PLATFORM=xcb "${headrooms[$i]}" --interval 1 >"$work/headroom-$i.log" 2>&1 &
    dashboards+=($!)
    names+=("${labels[$i]}")
    pids+=($!)
done

export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_DATA_HOME=$work/home/.local/share \
    XDG_CACHE_HOME=$work/home/.cache
mkdir -p "$XDG_CONFIG_HOME/btop" "$XDG_CONFIG_HOME/htop" "$XDG_DATA_HOME" "$XDG_CACHE_HOME"
printf 'update_ms = 1000\n' >"$XDG_CONFIG_HOME/btop/btop.conf"
# The argument lists go to tmux as words, so each pane's pid is the program's.
tmux -L "$tmux_socket" -f /dev/null new-session -d -s bench -x 200 -y 50 btop --utf-force
tmux -L "$tmux_socket" new-window -t bench htop -d 10
sleep 2
pane_pid() {
    tmux -L "$tmux_socket" list-panes -s -t bench -F '#{pane_pid} #{pane_current_command}' |
        awk -v c="$1" '$2 == c { print $1; exit }'
}
btop_pid=$(pane_pid btop)
htop_pid=$(pane_pid htop)
[[ -n $btop_pid && $(cat "/proc/$btop_pid/comm" 2>/dev/null) == btop ]] || fail "btop did not start in tmux"
[[ -n $htop_pid && $(cat "/proc/$htop_pid/comm" 2>/dev/null) == htop ]] || fail "htop did not start in tmux"
names+=("btop" "htop")
pids+=("$btop_pid" "$htop_pid")

# Each headroom's window: a mapped top-level window of that pid, larger than
# a tray icon. Qt sets _NET_WM_PID on its windows.
window_of() {
    local id pid
    for id in $(xwininfo -root -tree 2>/dev/null | awk '$1 ~ /^0x/ && $2 != "(has" { print $1 }'); do
        pid=$(xprop -id "$id" _NET_WM_PID 2>/dev/null | awk '{ print $NF }')
        [[ $pid == "$1" ]] || continue
        xwininfo -id "$id" 2>/dev/null | awk '
            /Map State:/ { viewable = ($3 == "IsViewable") }
            /^  Width:/ { w = $2 } /^  Height:/ { h = $2 }
            END { exit !(viewable && w >= 300 && h >= 200) }' || continue
        xwininfo -id "$id" | awk '/^  Width:/ { w = $2 } /^  Height:/ { h = $2 } END { printf "%sx%s", w, h }'
        return 0
    done
    return 1
}
windows=()
for i in "${!dashboards[@]}"; do
    window=
    for ((tries = 0; tries < 40; tries++)); do
        alive "${dashboards[$i]}" || fail "${names[$i]} (${headrooms[$i]}) exited at start"
        window=$(window_of "${dashboards[$i]}") && break
        sleep 0.5
    done
    [[ -n $window ]] || fail "${names[$i]} shows no window on $DISPLAY after 20 s"
    windows+=("$window")
done

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
# The dashboard's sampling thread alone, to tell the cost of reading /proc
# from the cost of drawing; an empty answer where no thread has that name.
sampling_ticks() {
    local task
    for task in /proc/"$1"/task/*; do
        [[ $(cat "$task/comm" 2>/dev/null) == sampling ]] &&
            { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "$task/stat"; return; }
    done
    return 0
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# Let start-up settle (fonts, first polls) before the clock starts.
sleep 10
count=${#pids[@]}
declare -a cpu0 cpu1 rss0 rssMid rssEnd rssMin rssMax samp0 samp1
for ((i = 0; i < count; i++)); do
    alive "${pids[$i]}" || fail "${names[$i]} exited before the measurement"
    cpu0[i]=$(cpu_ticks "${pids[$i]}")
    rss0[i]=$(rss_kib "${pids[$i]}")
    rssMin[i]=${rss0[$i]}
    rssMax[i]=${rss0[$i]}
    samp0[i]=$(sampling_ticks "${pids[$i]}")
done
entries=(/proc/[0-9]*)
processes=${#entries[@]}
start=$EPOCHREALTIME
read -r load0 _ </proc/loadavg
step=5
elapsed=0
while ((elapsed < total)); do
    wait_s=$((total - elapsed < step ? total - elapsed : step))
    sleep "$wait_s"
    elapsed=$((elapsed + wait_s))
    for ((i = 0; i < count; i++)); do
        alive "${pids[$i]}" || fail "${names[$i]} exited after ${elapsed} s"
        rss=$(rss_kib "${pids[$i]}")
        ((rss < rssMin[i])) && rssMin[i]=$rss
        ((rss > rssMax[i])) && rssMax[i]=$rss
        [[ -z ${rssMid[$i]:-} ]] && ((elapsed * 2 >= total)) && rssMid[i]=$rss
    done
done
for ((i = 0; i < count; i++)); do
    cpu1[i]=$(cpu_ticks "${pids[$i]}")
    rssEnd[i]=$(rss_kib "${pids[$i]}")
    samp1[i]=$(sampling_ticks "${pids[$i]}")
done
end=$EPOCHREALTIME
read -r load1 _ </proc/loadavg
seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')

# -- The report. ---------------------------------------------------------------
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
cpu_s() { calc '%.1f' "(${cpu1[$1]} - ${cpu0[$1]}) / $ticks"; }
cpu_min() { calc '%.2f' "(${cpu1[$1]} - ${cpu0[$1]}) / $ticks / $seconds * 60"; }
cpu_pct() { calc '%.2f%%' "100 * (${cpu1[$1]} - ${cpu0[$1]}) / $ticks / $seconds"; }
mib() { calc '%.1f' "$1 / 1024"; }
samp() {
    if [[ -n ${samp0[$1]} && -n ${samp1[$1]} ]]; then calc '%.1f' "(${samp1[$1]} - ${samp0[$1]}) / $ticks"; else echo -; fi
}
row() {
    local title=$1 fn=$2 i
    printf '| %-22s |' "$title"
    for ((i = 0; i < count; i++)); do printf ' %12s |' "$("$fn" "$i")"; done
    printf '\n'
}
r_start() { mib "${rss0[$1]}"; }
r_mid() { mib "${rssMid[$1]:-${rss0[$1]}}"; }
r_end() { mib "${rssEnd[$1]}"; }
r_min() { mib "${rssMin[$1]}"; }
r_max() { mib "${rssMax[$1]}"; }

echo
echo "Dashboard benchmark: $minutes min at 1 s refresh, $processes processes ($extra extra sleeping), $(nproc) cores"
echo "$command_line"
echo "load average (1 min) $load0 at the start, $load1 at the end: other work on the machine shows in the figures"
echo "$(uname -sr), $(date -u '+%Y-%m-%d %H:%M UTC'); Xvfb $DISPLAY 1920x1080, $wm_note, $tray_note, $bus_note"
echo
printf '| %-22s |' "Figure"
for ((i = 0; i < count; i++)); do printf ' %12s |' "${names[$i]}"; done
printf '\n|%s|' "------------------------"
for ((i = 0; i < count; i++)); do printf '%s|' "-------------:"; done
printf '\n'
row "CPU time (s)" cpu_s
row "CPU s per minute" cpu_min
row "CPU % of one core" cpu_pct
row "RSS start (MiB)" r_start
row "RSS middle (MiB)" r_mid
row "RSS end (MiB)" r_end
row "RSS min (MiB)" r_min
row "RSS max (MiB)" r_max
row "sampling thread CPU s" samp
echo
for i in "${!headrooms[@]}"; do
    version=$("${headrooms[$i]}" --version 2>/dev/null | head -n 1 || true)
    printf '%s: %s (%s, built %s), window %s shown\n' "${names[$i]}" "${headrooms[$i]}" "${version:-no version}" \
        "$(date -u -r "${headrooms[$i]}" '+%Y-%m-%d %H:%M UTC')" "${windows[$i]}"
done
echo "btop: update_ms = 1000; htop: -d 10; both in tmux 200x50"
echo

# ratio A B: "2.1x" or, when B is 0, "n/a"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else printf "n/a" }'; }
change() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%+.0f%%", 100 * (a - b) / b; else printf "n/a" }'; }
used() { echo $((cpu1[$1] - cpu0[$1])); }
b=$((count - 2)) # btop's column
for i in "${!headrooms[@]}"; do
    printf 'Verdict: %s used %s btop'"'"'s CPU (%s vs %s s per minute) and %s its peak RSS (%s vs %s MiB).\n' \
        "${names[$i]}" "$(ratio "$(used "$i")" "$(used "$b")")" "$(cpu_min "$i")" "$(cpu_min "$b")" \
        "$(ratio "${rssMax[$i]}" "${rssMax[$b]}")" "$(r_max "$i")" "$(r_max "$b")"
done
for ((i = 1; i < ${#headrooms[@]}; i++)); do
    printf '%s against %s: CPU %s (%s vs %s s per minute), peak RSS %s (%s vs %s MiB).\n' "${names[$i]}" "${names[0]}" \
        "$(change "$(used "$i")" "$(used 0)")" "$(cpu_min "$i")" "$(cpu_min 0)" \
        "$(change "${rssMax[$i]}" "${rssMax[0]}")" "$(r_max "$i")" "$(r_max 0)"
done
