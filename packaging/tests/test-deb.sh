#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the .deb with CPack, checks its metadata and contents, installs it
# with dpkg -i, runs the installed programs, removes and purges it, and checks
# that nothing is left behind. Never leaves Headroom installed.
#   test-deb.sh BUILD_DIR VERSION APP_ID
set -euo pipefail
build=$1
version=$2
app_id=$3

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

command -v dpkg-deb >/dev/null || skip "dpkg-deb is not installed: this is not a Debian system"
command -v dpkg-shlibdeps >/dev/null || skip "dpkg-shlibdeps is missing (Debian: dpkg-dev)"

work=$(mktemp -d)
installed=no
cleanup() {
    if [ "$installed" = yes ]; then
        dpkg -P headroom >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "== cpack -G DEB"
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work" >"$work/cpack.log" 2>&1 ||
    { cat "$work/cpack.log"; fail "cpack could not build the .deb"; }
deb=$(ls "$work"/headroom_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || fail "cpack wrote no headroom_*.deb"
echo "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = headroom ] || fail "Package is '$(field Package)'"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', project(VERSION) is $version"
depends=$(field Depends)
echo "Depends: $depends"
for dep in libqt6widgets6 libqt6core6 libstdc++6 libc6 qt6-qpa-plugins; do
    grep -q "\b$dep\b" <<<"$depends" || fail "Depends lacks $dep"
done

contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for path in ./usr/bin/headroom ./usr/bin/headroom-cli \
    "./usr/share/applications/$app_id.desktop" \
    "./usr/share/metainfo/$app_id.metainfo.xml" \
    "./usr/share/icons/hicolor/scalable/apps/$app_id.svg" \
    "./usr/share/icons/hicolor/256x256/apps/$app_id.png" \
    "./usr/share/icons/hicolor/48x48/apps/$app_id.png" \
    ./usr/share/doc/headroom/copyright \
    ./usr/lib/systemd/user/headroom-export.service; do
    grep -qxF "$path" <<<"$contents" || fail "the .deb lacks $path"
done

[ "$(id -u)" -eq 0 ] || skip "the .deb is built and complete; installing it needs root"
if dpkg-query -W -f='${Status}' headroom 2>/dev/null | grep -q installed; then
    skip "a headroom package is already installed here; this test will not replace it"
fi

echo "== dpkg -i"
installed=yes
dpkg -i "$deb" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "dpkg -i failed"; }
files=$(dpkg -L headroom)

problems=$(desktop-file-validate "/usr/share/applications/$app_id.desktop" 2>&1 | grep -v ': hint: ' || true)
[ -z "$problems" ] || fail "the installed desktop entry does not validate: $problems"

out=$(/usr/bin/headroom --version) || fail "headroom --version failed"
[ "$out" = "headroom $version" ] || fail "headroom --version printed '$out'"
out=$(/usr/bin/headroom-cli --version) || fail "headroom-cli --version failed"
[ "$out" = "headroom-cli $version" ] || fail "headroom-cli --version printed '$out'"
echo "versions: headroom $version, headroom-cli $version"

json=$(/usr/bin/headroom sample --json --interval 0) || fail "headroom sample --json failed"
grep -q '"schema":"headroom.snapshot"' <<<"$json" || fail "headroom sample --json printed no snapshot"
grep -q "\"headroom_version\":\"$version\"" <<<"$json" || fail "the snapshot names another version"
grep -q '"total":[1-9]' <<<"$json" || fail "the snapshot has no memory total"
echo "headroom sample --json: $(wc -c <<<"$json") bytes of snapshot"

top=$(/usr/bin/headroom-cli top -n 5 --interval 0 --width 100) || fail "headroom-cli top failed"
grep -q 'PID' <<<"$top" || fail "headroom-cli top printed no table: $top"
echo "headroom-cli top: $(wc -l <<<"$top") lines"

echo "== dpkg -r, dpkg -P"
dpkg -r headroom >/dev/null || fail "dpkg -r failed"
dpkg -P headroom >/dev/null || fail "dpkg -P failed"
installed=no
if dpkg-query -W -f='${Status}' headroom 2>/dev/null | grep -q 'installed\|config-files'; then
    fail "dpkg still knows headroom after purge"
fi
left=0
while IFS= read -r path; do
    [ -z "$path" ] || [ "$path" = "/." ] && continue
    # Shared folders (/usr/bin, the hicolor tree) stay; our files and our own folders go.
    if [ -e "$path" ] && { [ ! -d "$path" ] || [[ "$path" == */headroom ]] || [[ "$path" == *"$app_id"* ]]; }; then
        echo "left behind: $path" >&2
        left=$((left + 1))
    fi
done <<<"$files"
[ "$left" -eq 0 ] || fail "$left paths left behind after purge"
echo "purged: nothing left behind ($(wc -l <<<"$files") paths checked)"
