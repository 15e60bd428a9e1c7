#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Functions called through wait_for and traps look unreachable to shellcheck:
# shellcheck disable=SC2317
#
# End-to-end check of Headroom's tray icon and desktop notification on a real
# (virtual) X11 desktop.
#
#   desktop-e2e.sh <path-to-headroom-binary> <output-dir>
#
# Exit status: 0 pass, 1 fail, 77 skipped because a tool is missing. With
# HEADROOM_REQUIRE_DESKTOP=1 a missing tool is a failure too. On failure the
# script says which check failed and prints headroom's output, the D-Bus
# traffic and the notification server's log.
#
# The desktop, built from scratch and torn down at the end:
#   - Xvfb on the first free display in :90..:99 (a display another run takes
#     first is skipped);
#   - a private session bus (dbus-run-session with its own config, which has no
#     service directories, so nothing is ever auto-started on it and the user's
#     real session bus is never touched);
#   - dbus-monitor recording every org.freedesktop.Notifications method call
#     and signal to <output-dir>/dbus-monitor.log;
#   - dunst as the notification server, configured so notifications stay up;
#   - trayer as the XEmbed system tray (Qt 6 on X11 embeds its tray icon there
#     because no org.kde.StatusNotifierWatcher is on the private bus).
# Headroom then starts with --hidden, an isolated HOME/XDG_* and a settings
# file whose thresholds put any machine at the warning level, never critical.
#
# Checks, each polled with a deadline:
#   a. tray icon embedded: a window whose _NET_WM_PID is headroom's pid (or,
#      without _NET_WM_PID, whose WM_CLASS is "headroom") is a mapped
#      descendant of trayer's panel window (Qt's icon window is reparented
#      into a socket window of the panel);
#   b. a Notify call reached the bus with app_name "Headroom" and a summary
#      starting with "Memory warning" (parsed from dbus-monitor's multi-line
#      output), and dunst shows it on screen;
#   c. --hidden opened no window, and invoking the notification's default
#      action ("dunstctl action 0") makes Headroom map its "Headroom" window.
# Screenshots in <output-dir>: tray.png (around trayer), notification.png
# (around dunst's window), screen.png (whole screen, notification displayed),
# dashboard.png (whole screen after the action). Every process started here is
# stopped on exit, also on failure, timeout or interruption. The run takes
# well under 90 s.

set -uo pipefail

# The bus configuration and the settings are shared with the other desktop tests.
here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
readonly here
readonly SCREEN_W=1280 SCREEN_H=800
readonly CHECK_SECONDS=20 # deadline of each check
readonly INNER_BUDGET=70  # whole session part; Xvfb start and cleanup come on top

# shellcheck source=e2e-lib.sh
. "$here/e2e-lib.sh"

# alive PID: the process exists and is not a zombie.
alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
}

# stop_pids PID...: SIGTERM, up to 3 s grace, then SIGKILL.
stop_pids() {
    local pid left
    (($# == 0)) && return 0
    kill -TERM "$@" 2>/dev/null
    wait_for 3 none_alive "$@"
    left=()
    for pid in "$@"; do alive "$pid" && left+=("$pid"); done
    if ((${#left[@]})); then
        kill -KILL "${left[@]}" 2>/dev/null
        wait_for 2 none_alive "${left[@]}"
    fi
    return 0
}
none_alive() {
    local pid
    for pid in "$@"; do alive "$pid" && return 1; done
    return 0
}

# ---------------------------------------------------------------------------
# Part 2: inside the private session bus (the script re-executes itself here).
# ---------------------------------------------------------------------------

in_session() {
    local headroom=$1 out=$2
    local -a started=()
    local headroom_pid='' trayer_win='' icon_win='' icon_how='' dunst_win=''
    local notify_summary='' notify_body='' notify_actions='' dashboard_win=''
    exec 2>&1

    # start NAME LOG COMMAND...: background process, remembered for cleanup
    # (here and, as a safety net, by part 1 through the pids file).
    start() {
        local name=$1 log=$2
        shift 2
        "$@" >"$log" 2>&1 &
        started+=($!)
        printf '%s %s\n' "$!" "$name" >>"$out/pids"
        LAST_PID=$!
    }
    cleanup_session() {
        local -a reversed=() i
        for ((i = ${#started[@]} - 1; i >= 0; i--)); do reversed+=("${started[i]}"); done
        stop_pids "${reversed[@]}"
        wait 2>/dev/null
    }
    fail() {
        local line
        while IFS= read -r line; do say "FAIL: $line"; done <<<"$*"
        xwininfo -root -tree >"$out/xwininfo-tree.txt" 2>&1
        import -window root "$out/screen.png" 2>/dev/null && say "screen at failure: $out/screen.png"
        exit 1
    }
    trap cleanup_session EXIT
    trap 'exit 143' TERM INT HUP

    # -- dbus-monitor ------------------------------------------------------
    start dbus-monitor "$out/dbus-monitor.log" dbus-monitor --session \
        "type='method_call',interface='org.freedesktop.Notifications'" \
        "type='signal',interface='org.freedesktop.Notifications'"
    # It prints NameAcquired/NameLost once it has become a monitor.
    wait_for 5 test -s "$out/dbus-monitor.log" ||
        fail "dbus-monitor did not start monitoring the private session bus"

    # -- dunst -------------------------------------------------------------
    cat >"$out/dunstrc" <<'EOF'
[global]
    monitor = 0
    follow = none
    width = 380
    height = 200
    origin = top-right
    offset = 12x12
    notification_limit = 0
    font = DejaVu Sans 10
    format = "<b>%s</b>\n%b"
    markup = full
    frame_width = 2
    frame_color = "#e0a030"
    padding = 10
    horizontal_padding = 10
    icon_position = off
    show_indicators = no
    idle_threshold = 0
    title = Dunst
    class = Dunst
    # A notification without a "default" action would open a context menu
    # through dmenu: never start anything here.
    dmenu = /bin/false
    browser = /bin/false
[urgency_low]
    background = "#222222"
    foreground = "#eeeeee"
    timeout = 0
[urgency_normal]
    background = "#222222"
    foreground = "#eeeeee"
    timeout = 0
[urgency_critical]
    background = "#552222"
    foreground = "#ffffff"
    timeout = 0
# Keep every notification up, whatever timeout the client asked for, so the
# screenshot shows it.
[stay_up]
    appname = "*"
    override_dbus_timeout = 0
EOF
    start dunst "$out/dunst.log" dunst -config "$out/dunstrc" -verbosity info
    local dunst_pid=$LAST_PID
    notifications_owned() {
        alive "$dunst_pid" || return 1
        dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
            org.freedesktop.DBus.NameHasOwner string:org.freedesktop.Notifications 2>/dev/null |
            grep -q 'boolean true'
    }
    wait_for 10 notifications_owned ||
        fail "dunst does not own org.freedesktop.Notifications on the private bus$(alive "$dunst_pid" || echo ' (dunst exited)')"
    local server
    server=$(dbus-send --session --print-reply=literal --dest=org.freedesktop.Notifications \
        /org/freedesktop/Notifications org.freedesktop.Notifications.GetServerInformation 2>&1 | xargs)
    say "notification server: $server"
    # The bus daemon too, for part 1's safety net.
    dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.DBus 2>/dev/null |
        awk '{ print $2, "dbus-daemon" }' >>"$out/pids"

    # -- trayer ------------------------------------------------------------
    start trayer "$out/trayer.log" trayer --edge bottom --align right --widthtype pixel \
        --width 200 --height 32 --SetDockType true --transparent false --tint 0x333333
    local trayer_pid=$LAST_PID
    tray_ready() {
        alive "$trayer_pid" || return 1
        trayer_win=$(xwininfo -root -children 2>/dev/null |
            awk '/\("panel" "trayer"\)/ { print $1; exit }')
        [[ -n $trayer_win ]] && win_viewable "$trayer_win" && tray_selection_owned
    }
    wait_for 10 tray_ready ||
        fail "trayer did not come up as system tray (panel window '${trayer_win}', _NET_SYSTEM_TRAY_S0 owner: $(tray_selection_owner))$(alive "$trayer_pid" || echo ', trayer exited')"
    say "tray: trayer panel $trayer_win owns _NET_SYSTEM_TRAY_S0 through $(tray_selection_owner)"

    # -- Headroom ----------------------------------------------------------
    mkdir -p "$out"/{home,config,data,cache,runtime}
    chmod 700 "$out/runtime"
    cp -- "$here/warning-everywhere.ini" "$out/config/settings.ini"
    start headroom "$out/headroom.log" env \
        HOME="$out/home" XDG_CONFIG_HOME="$out/config" XDG_DATA_HOME="$out/data" \
        XDG_CACHE_HOME="$out/cache" XDG_RUNTIME_DIR="$out/runtime" QT_QPA_PLATFORM=xcb \
        "$headroom" --settings "$out/config/settings.ini" --hidden
    headroom_pid=$LAST_PID
    say "headroom: pid $headroom_pid"

    # a + b: polled together, one deadline.
    local tray_ok=0 notify_ok=0 shown_ok=0
    checks_ab() {
        alive "$headroom_pid" || return 0 # reported below
        ((tray_ok)) || { find_tray_icon && tray_ok=1; }
        ((notify_ok)) || { find_notify && notify_ok=1; }
        ((notify_ok)) && ((shown_ok == 0)) && find_dunst_window && shown_ok=1
        ((tray_ok && notify_ok && shown_ok))
    }
    find_tray_icon() {
        local w pid cls
        for w in $(xwininfo -tree -id "$trayer_win" 2>/dev/null | awk '$1 ~ /^0x/ { print $1 }'); do
            pid=$(xprop -id "$w" _NET_WM_PID 2>/dev/null | awk '/= / { print $3 }')
            if [[ -n $pid ]]; then
                [[ $pid == "$headroom_pid" ]] || continue
                icon_how="_NET_WM_PID $pid"
            else
                cls=$(xprop -id "$w" WM_CLASS 2>/dev/null)
                [[ $cls == *'"headroom"'* ]] || continue
                icon_how="WM_CLASS headroom (no _NET_WM_PID)"
            fi
            win_viewable "$w" || continue
            icon_win=$w
            return 0
        done
        return 1
    }
    find_notify() {
        local app summary body actions
        while IFS=$'\t' read -r app summary body actions _; do
            if [[ $app == Headroom && $summary == 'Memory warning'* ]]; then
                notify_summary=$summary notify_body=$body notify_actions=$actions
                return 0
            fi
        done < <(parse_notify_calls "$out/dbus-monitor.log")
        return 1
    }
    find_dunst_window() {
        dunst_win=$(xwininfo -root -children 2>/dev/null |
            awk '/\("Dunst" "Dunst"\)/ { print $1 }' |
            while read -r w; do win_viewable "$w" && { echo "$w"; break; }; done)
        [[ -n $dunst_win ]]
    }
    wait_for "$CHECK_SECONDS" checks_ab
    if ! alive "$headroom_pid"; then
        wait "$headroom_pid"
        fail "headroom exited early with status $?"
    fi
    local failures=()
    ((tray_ok)) || failures+=("(a) no window of headroom (pid $headroom_pid) is embedded in trayer's panel $trayer_win within ${CHECK_SECONDS}s")
    if ((!notify_ok)); then
        say "Notify calls seen on the bus (app_name, summary, body, actions, timeout):"
        parse_notify_calls "$out/dbus-monitor.log" | sed 's/^/  /' | grep . || say "  (none)"
        failures+=("(b) no Notify call with app_name \"Headroom\" and a summary starting with \"Memory warning\" within ${CHECK_SECONDS}s")
    elif ((!shown_ok)); then
        failures+=("(b) the notification reached dunst but dunst shows no notification window")
    fi
    ((${#failures[@]} == 0)) || fail "$(printf '%s\n' "${failures[@]}")"
    say "PASS (a) tray icon $icon_win ($icon_how) embedded in trayer window $trayer_win"
    say "PASS (b) Notify: summary \"$notify_summary\", body \"$notify_body\", actions [$notify_actions]"

    # Screenshots while the notification is displayed.
    local ss=0
    shoot_around "$trayer_win" "$out/tray.png" || ss=1
    if ! shoot_around "$dunst_win" "$out/notification.png"; then
        say "no geometry for dunst's window; notification.png is the top-right quarter"
        shoot "$out/notification.png" $((SCREEN_W / 2))x$((SCREEN_H / 2))+$((SCREEN_W / 2))+0 || ss=1
    fi
    shoot "$out/screen.png" || ss=1
    ((ss == 0)) || fail "a screenshot could not be taken or is empty (see above)"

    # c: --hidden opened nothing; the notification's default action opens the window.
    if find_headroom_window; then
        fail "(c) --hidden, yet headroom shows window $(printf '0x%x' "$dashboard_win") \"$(xdotool getwindowname "$dashboard_win")\" before any action"
    fi
    local displayed
    displayed=$(dunstctl count displayed 2>&1)
    dunstctl action 0 >>"$out/dunstctl.log" 2>&1 ||
        fail "(c) 'dunstctl action 0' failed: $(cat "$out/dunstctl.log")"
    if ! wait_for 15 find_headroom_window; then
        local invoked
        invoked=$(grep -c 'member=ActionInvoked' "$out/dbus-monitor.log")
        alive "$headroom_pid" || fail "(c) headroom exited after 'dunstctl action 0' (dunst emitted ActionInvoked $invoked time(s))"
        fail "(c) after 'dunstctl action 0' ($displayed notification(s) displayed; dunst emitted ActionInvoked $invoked time(s)) no visible top-level headroom window titled \"*Headroom*\" within 15s"
    fi
    local title
    title=$(xdotool getwindowname "$dashboard_win")
    say "PASS (c) default action -> window $(printf '0x%x' "$dashboard_win") \"$title\" mapped"
    sleep 0.5 # let it paint
    shoot "$out/dashboard.png" || fail "dashboard screenshot"

    say ""
    say "tray: embedded in trayer window $trayer_win (icon window $icon_win, $icon_how)"
    say "notification: \"$notify_summary\" / \"$notify_body\""
    say "window: \"$title\" after the notification's default action"
    say "screenshots: $out/tray.png $out/notification.png $out/screen.png $out/dashboard.png"
    exit 0
}

# find_headroom_window: a visible top-level (child of the root, no window
# manager runs here) window of headroom's pid whose title contains "Headroom".
find_headroom_window() {
    local top=' ' w
    for w in $(xwininfo -root -children 2>/dev/null | awk '$1 ~ /^0x/ { print $1 }'); do
        top+="$((w)) " # xdotool speaks decimal
    done
    for w in $(xdotool search --onlyvisible --pid "$headroom_pid" 2>/dev/null); do
        [[ $top == *" $w "* ]] || continue
        [[ $(xdotool getwindowname "$w" 2>/dev/null) == *Headroom* ]] || continue
        dashboard_win=$w
        return 0
    done
    return 1
}

win_viewable() { xwininfo -id "$1" 2>/dev/null | grep -q 'Map State: IsViewable'; }

# The owner of the system tray selection of screen 0, or nothing. Asked through
# Xlib (no command-line tool answers this); without python3 the mapped trayer
# panel has to do.
tray_selection_owner() {
    command -v python3 >/dev/null || { echo "unknown (no python3)"; return 0; }
    python3 - <<'EOF'
import ctypes, sys
x = ctypes.CDLL("libX11.so.6")
x.XOpenDisplay.restype = ctypes.c_void_p
x.XOpenDisplay.argtypes = [ctypes.c_char_p]
x.XInternAtom.restype = ctypes.c_ulong
x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
x.XGetSelectionOwner.restype = ctypes.c_ulong
x.XGetSelectionOwner.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
d = x.XOpenDisplay(None)
if d:
    owner = x.XGetSelectionOwner(d, x.XInternAtom(d, b"_NET_SYSTEM_TRAY_S0", 0))
    if owner:
        print(hex(owner))
EOF
}
tray_selection_owned() { [[ -n $(tray_selection_owner) ]]; }

# parse_notify_calls LOG: one line per Notify method call in dbus-monitor's
# output: app_name, summary, body, actions (key=label, ...), timeout, separated
# by tabs; newlines inside strings become "\n".
#
# dbus-monitor prints a header line ("method call time=... member=Notify"),
# then each argument indented by three spaces; container contents are indented
# further and closed by "   ]". Strings are printed raw between quotes, so a
# multi-line body continues on lines with any indentation. Notify's signature
# is (susssasa{sv}i): app_name, replaces_id, icon, summary are the first four
# arguments, actions, hints and timeout the last three, and everything between
# is the body.
parse_notify_calls() {
    awk '
        function str(s) { sub(/^   string "/, "", s); sub(/"$/, "", s); return s }
        function flat(s) { gsub(/\t/, " ", s); gsub(/\n/, "\\n", s); return s }
        function finish(   body, i, n, lines, actions, key) {
            if (!in_notify) return
            in_notify = 0
            if (nargs < 8 || arg[1] !~ /^   string "/ || arg[nargs] !~ /^   int32 /) return
            body = arg[5]
            for (i = 6; i <= nargs - 3; i++) body = body "\n" arg[i]
            body = str(body)
            n = split(arg[nargs - 2], lines, "\n")
            actions = ""; key = ""
            for (i = 1; i <= n; i++) {
                if (lines[i] !~ /^      string "/) continue
                sub(/^      string "/, "", lines[i]); sub(/"$/, "", lines[i])
                if (key == "") key = lines[i]
                else { actions = actions (actions == "" ? "" : ", ") key "=" lines[i]; key = "" }
            }
            timeout = arg[nargs]; sub(/^   int32 /, "", timeout)
            printf "%s\t%s\t%s\t%s\t%s\n", flat(str(arg[1])), flat(str(arg[4])), flat(body), flat(actions), timeout
        }
        /^(method call|method return|signal|error) time=/ {
            finish()
            in_notify = ($0 ~ /^method call / && $0 ~ /interface=org\.freedesktop\.Notifications; member=Notify$/)
            nargs = 0
            next
        }
        in_notify {
            if ($0 ~ /^   [a-z]/) arg[++nargs] = $0
            else if (nargs > 0) arg[nargs] = arg[nargs] "\n" $0
        }
        END { finish() }
    ' "$1"
}

# Window geometry "WxH+X+Y" grown by MARGIN on every side, clamped to the screen.
geometry_around() {
    xwininfo -id "$1" 2>/dev/null | awk -v m="${2:-8}" -v sw=$SCREEN_W -v sh=$SCREEN_H '
        /Absolute upper-left X:/ { x = $NF } /Absolute upper-left Y:/ { y = $NF }
        /^  Width:/ { w = $NF } /^  Height:/ { h = $NF }
        END {
            if (w == "" || w < 1 || h < 1) exit 1
            x0 = x - m; y0 = y - m; x1 = x + w + m; y1 = y + h + m
            if (x0 < 0) x0 = 0; if (y0 < 0) y0 = 0; if (x1 > sw) x1 = sw; if (y1 > sh) y1 = sh
            if (x1 <= x0 || y1 <= y0) exit 1
            printf "%dx%d+%d+%d\n", x1 - x0, y1 - y0, x0, y0
        }'
}
shoot_around() {
    local geometry
    geometry=$(geometry_around "$1" 8) || return 1
    shoot "$2" "$geometry"
}
# shoot FILE [CROP]: screenshot of the root window, checked to be a non-empty
# PNG of the expected size with more than one colour.
shoot() {
    local file=$1 crop=${2:-} info fmt w h colours
    rm -f "$file"
    if [[ -n $crop ]]; then
        import -window root -crop "$crop" +repage "$file" 2>>"${file%.png}.err"
    else
        import -window root "$file" 2>>"${file%.png}.err"
    fi
    [[ -s $file ]] || { say "screenshot $file: not written ($(cat "${file%.png}.err" 2>/dev/null))"; return 1; }
    rm -f "${file%.png}.err"
    info=$(identify -format '%m %w %h %k' "$file" 2>&1)
    read -r fmt w h colours <<<"$info"
    if [[ $fmt != PNG ]] || ((w < 1 || h < 1 || colours < 2)); then
        say "screenshot $file: not a usable picture ($info)"
        return 1
    fi
    [[ -z $crop || $crop == "${w}x${h}+"* ]] || { say "screenshot $file: ${w}x${h}, wanted $crop"; return 1; }
    return 0
}

# ---------------------------------------------------------------------------
# Part 1: tools, output directory, Xvfb, then part 2 under dbus-run-session.
# ---------------------------------------------------------------------------

main() {
    if (($# != 2)); then
        say "usage: $0 <path-to-headroom-binary> <output-dir>" >&2
        exit 1
    fi
    local headroom out
    if ! headroom=$(realpath -e -- "$1" 2>/dev/null) || [[ ! -x $headroom ]]; then
        say "FAIL: headroom binary '$1' does not exist or is not executable"
        exit 1
    fi

    local tool missing=()
    for tool in Xvfb xwininfo xprop xdotool trayer dunst dunstctl dbus-run-session \
        dbus-monitor dbus-send import identify timeout; do
        command -v "$tool" >/dev/null || missing+=("$tool")
    done
    if ((${#missing[@]})); then
        if [[ ${HEADROOM_REQUIRE_DESKTOP:-0} == 1 ]]; then
            say "FAIL: missing tools (HEADROOM_REQUIRE_DESKTOP=1): ${missing[*]}"
            exit 1
        fi
        say "SKIP: missing tools: ${missing[*]}"
        exit 77
    fi
    command -v python3 >/dev/null ||
        say "note: no python3, so the tray selection owner is not checked, only trayer's mapped panel"

    mkdir -p -- "$2" || { say "FAIL: cannot create output directory '$2'"; exit 1; }
    out=$(realpath -e -- "$2")
    # Only what this script writes, never the whole directory.
    rm -rf -- "${out:?}"/{home,config,data,cache,runtime}
    rm -f -- "$out"/{pids,dunstrc,xvfb.log,dbus-daemon.log,dbus-monitor.log,dunst.log,trayer.log} \
        "$out"/{headroom.log,dunstctl.log,xwininfo-tree.txt,tray.png,notification.png,screen.png,dashboard.png}
    : >"$out/pids"

    local xvfb_pid='' session_pid='' display='' status=1
    cleanup() {
        local pid name
        if [[ -n $session_pid ]] && alive "$session_pid"; then
            # timeout leads its own process group, which holds the whole session.
            kill -TERM -- "-$session_pid" "$session_pid" 2>/dev/null
            wait_for 5 none_alive "$session_pid"
            kill -KILL -- "-$session_pid" 2>/dev/null
        fi
        # Safety net: anything part 2 started and that is still there.
        while read -r pid name; do
            [[ -n $pid ]] && alive "$pid" && [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *"$name"* ]] &&
                { say "cleanup: $name (pid $pid) was still running, stopping it"; stop_pids "$pid"; }
        done <"$out/pids"
        [[ -n $xvfb_pid ]] && stop_pids "$xvfb_pid"
        wait 2>/dev/null
    }
    trap cleanup EXIT
    trap 'say "interrupted: stopping everything this run started"; exit 143' TERM INT HUP

    # Never the user's desktop, bus or session manager.
    unset DBUS_SESSION_BUS_ADDRESS WAYLAND_DISPLAY SESSION_MANAGER XDG_CURRENT_DESKTOP \
        DESKTOP_SESSION QT_QPA_PLATFORMTHEME XAUTHORITY
    export NO_AT_BRIDGE=1

    # -- Xvfb on a free display --------------------------------------------
    local n
    x_answers() { alive "$xvfb_pid" && xwininfo -root >/dev/null 2>&1; }
    for n in 90 91 92 93 94 95 96 97 98 99; do
        ((SECONDS > 15)) && break
        [[ -e /tmp/.X11-unix/X$n || -e /tmp/.X$n-lock ]] && continue
        export DISPLAY=:$n
        Xvfb ":$n" -screen 0 ${SCREEN_W}x${SCREEN_H}x24 -nolisten tcp >>"$out/xvfb.log" 2>&1 &
        xvfb_pid=$!
        # Another run may have taken :n between the check and the start; then
        # our Xvfb exits ("server already active") and we try the next number.
        if wait_for 10 x_answers && sleep 0.3 && alive "$xvfb_pid"; then
            display=:$n
            break
        fi
        stop_pids "$xvfb_pid"
        xvfb_pid=''
    done
    [[ -n $display ]] || { say "FAIL: could not start Xvfb on any display :90..:99"; dump_logs "$out"; exit 1; }
    say "Xvfb: display $display (pid $xvfb_pid)"

    local budget=$((INNER_BUDGET - SECONDS))
    ((budget < 30)) && budget=30
    # dbus-daemon talks on stderr; part 2 puts its own stderr back on stdout.
    timeout --kill-after=5 "$budget" dbus-run-session --config-file="$here/private-session-bus.conf" -- \
        bash "${BASH_SOURCE[0]}" --in-session "$headroom" "$out" 2>"$out/dbus-daemon.log" &
    session_pid=$!
    wait "$session_pid"
    status=$?
    session_pid=''
    case $status in
    0) say "PASS in ${SECONDS}s" ;;
    124 | 137) say "FAIL: the desktop session did not finish within ${budget}s" ;;
    *) say "FAIL (status $status) after ${SECONDS}s" ;;
    esac
    if ((status != 0)); then
        dump_logs "$out"
        exit 1
    fi
    exit 0
}

dump_logs() {
    local out=$1 f
    for f in headroom.log dbus-monitor.log dunst.log trayer.log xvfb.log dbus-daemon.log dunstctl.log \
        xwininfo-tree.txt; do
        [[ -s $out/$f ]] || continue
        say ""
        say "===== $out/$f (last 80 lines) ====="
        tail -n 80 "$out/$f"
    done
}

if [[ ${1:-} == --in-session ]]; then
    shift
    in_session "$@"
fi
main "$@"
