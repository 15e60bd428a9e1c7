# SPDX-License-Identifier: GPL-3.0-or-later
# Cross-compiles the Qt-free core and the CLI for 64-bit Windows with MinGW-w64
# (Debian: g++-mingw-w64-x86-64-posix). The executables are linked statically,
# so they run on Windows or under Wine without any MinGW DLL beside them.
#
#   cmake --preset mingw && cmake --build --preset mingw
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(_mingw x86_64-w64-mingw32)
# The posix flavour: std::thread and friends through winpthreads.
find_program(HEADROOM_MINGW_CXX NAMES ${_mingw}-g++-posix ${_mingw}-g++ REQUIRED)
find_program(HEADROOM_MINGW_CC NAMES ${_mingw}-gcc-posix ${_mingw}-gcc)
find_program(HEADROOM_MINGW_RC NAMES ${_mingw}-windres)
set(CMAKE_CXX_COMPILER ${HEADROOM_MINGW_CXX})
if(HEADROOM_MINGW_CC)
    set(CMAKE_C_COMPILER ${HEADROOM_MINGW_CC})
endif()
if(HEADROOM_MINGW_RC)
    set(CMAKE_RC_COMPILER ${HEADROOM_MINGW_RC})
endif()

# Libraries and headers come from the MinGW sysroot only, programs from the host.
set(CMAKE_FIND_ROOT_PATH /usr/${_mingw})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")

# nlohmann-json and CLI11 from the host, without the rest of /usr/include.
if(NOT DEFINED HEADROOM_HOST_HEADERS)
    set(HEADROOM_HOST_HEADERS "${CMAKE_BINARY_DIR}/host-headers")
endif()
include(${CMAKE_CURRENT_LIST_DIR}/HostHeaders.cmake)
