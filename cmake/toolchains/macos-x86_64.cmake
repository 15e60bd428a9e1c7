# SPDX-License-Identifier: GPL-3.0-or-later
# macOS on Intel, cross-compiled with zig (see zig-macos.cmake).
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(HEADROOM_ZIG_TARGET x86_64-macos)
include("${CMAKE_CURRENT_LIST_DIR}/zig-macos.cmake")
