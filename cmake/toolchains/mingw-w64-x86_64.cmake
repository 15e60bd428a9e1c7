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

# The header-only libraries (nlohmann-json, CLI11) are installed for the host
# in /usr/include. Adding /usr/include to a cross build would pull glibc's
# headers in, so a folder in the build tree links to just those two libraries
# and their CMake package files, and find_package is pointed there.
if(NOT DEFINED HEADROOM_HOST_HEADERS)
    set(HEADROOM_HOST_HEADERS "${CMAKE_BINARY_DIR}/host-headers")
endif()
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES HEADROOM_HOST_HEADERS)
foreach(_relative include/nlohmann include/CLI)
    if(EXISTS "/usr/${_relative}" AND NOT EXISTS "${HEADROOM_HOST_HEADERS}/${_relative}")
        file(MAKE_DIRECTORY "${HEADROOM_HOST_HEADERS}/include")
        file(CREATE_LINK "/usr/${_relative}" "${HEADROOM_HOST_HEADERS}/${_relative}" SYMBOLIC)
    endif()
endforeach()
# The package files compute their prefix by climbing from where they are found,
# so each is linked at the same depth as on the host (share/cmake/X,
# lib/<multiarch>/cmake/X, ...): the prefix is then host-headers, not /usr.
foreach(_package nlohmann_json CLI11)
    file(GLOB _candidates LIST_DIRECTORIES true
         /usr/share/cmake/${_package} /usr/lib/cmake/${_package} /usr/lib/*/cmake/${_package})
    if(_candidates)
        list(GET _candidates 0 _found)
        file(RELATIVE_PATH _relative /usr "${_found}")
        if(NOT EXISTS "${HEADROOM_HOST_HEADERS}/${_relative}")
            get_filename_component(_parent "${HEADROOM_HOST_HEADERS}/${_relative}" DIRECTORY)
            file(MAKE_DIRECTORY "${_parent}")
            file(CREATE_LINK "${_found}" "${HEADROOM_HOST_HEADERS}/${_relative}" SYMBOLIC)
        endif()
        set(${_package}_DIR "${HEADROOM_HOST_HEADERS}/${_relative}" CACHE PATH "")
    endif()
endforeach()
