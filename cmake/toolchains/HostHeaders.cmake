# SPDX-License-Identifier: GPL-3.0-or-later
# For the cross builds (MinGW, zig for macOS): the header-only libraries
# nlohmann-json and CLI11 are installed for the host in /usr/include, and
# adding /usr/include to a cross build would pull glibc's headers in. So
# HEADROOM_HOST_HEADERS, a folder in the build tree, links to just those two
# libraries and their CMake package files, and find_package is pointed there.
# The including toolchain file sets HEADROOM_HOST_HEADERS first.
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
