# SPDX-License-Identifier: GPL-3.0-or-later
# cmake -DNINJA=/usr/bin/ninja -DBINARIES="path=arm64;path=x86_64" -P CheckMachO.cmake
#
# Checks each binary's Mach-O header (<mach-o/loader.h>): the 64-bit magic
# MH_MAGIC_64 (0xfeedfacf), the CPU type (CPU_TYPE_ARM64 0x0100000c,
# CPU_TYPE_X86_64 0x01000007), the file type MH_EXECUTE (2), all little
# endian; that the macOS calls the backend makes are among its imports; and
# that its build has nothing left to do (ninja -n), so a failed rebuild cannot
# pass on an old binary. Prints "SKIP   : why" (the test's skip pattern) when
# a binary is missing, unless HEADROOM_REQUIRE_MACOS=1.
cmake_minimum_required(VERSION 3.25)
set(_cputype_arm64 "0c000001")
set(_cputype_x86_64 "07000001")
# One call from each part of the backend: memory, process list, process
# facts, swap, arguments.
set(_imports _host_statistics64 _proc_listallpids _proc_pidinfo _sysctlbyname _sysctl)

set(_require "$ENV{HEADROOM_REQUIRE_MACOS}")
set(_failures "")
set(_missing "")
foreach(_entry IN LISTS BINARIES)
    list(LENGTH _failures _before)
    string(REGEX MATCH "^(.*)=([a-z0-9_]+)$" _ "${_entry}")
    set(_binary "${CMAKE_MATCH_1}")
    set(_arch "${CMAKE_MATCH_2}")
    if(NOT EXISTS "${_binary}")
        set(_why "${_binary} is missing: build it with cmake --preset macos-${_arch} && cmake --build --preset macos-${_arch} (needs zig: see cmake/toolchains/zig-macos.cmake)")
        if(_require STREQUAL "1")
            list(APPEND _failures "${_why}")
            continue()
        endif()
        list(APPEND _missing "${_why}")
        continue()
    endif()
    file(READ "${_binary}" _header LIMIT 16 HEX)
    string(SUBSTRING "${_header}" 0 8 _magic)
    string(SUBSTRING "${_header}" 8 8 _cputype)
    string(SUBSTRING "${_header}" 24 8 _filetype)
    if(NOT _magic STREQUAL "cffaedfe")
        list(APPEND _failures "${_binary}: not a 64-bit Mach-O file (first bytes ${_magic})")
        continue()
    endif()
    if(NOT _cputype STREQUAL "${_cputype_${_arch}}")
        list(APPEND _failures "${_binary}: CPU type bytes ${_cputype}, expected ${_cputype_${_arch}} (${_arch})")
    endif()
    if(NOT _filetype STREQUAL "02000000")
        list(APPEND _failures "${_binary}: file type bytes ${_filetype}, expected an executable (02000000)")
    endif()
    file(STRINGS "${_binary}" _names REGEX "^_(host_statistics64|proc_listallpids|proc_pidinfo|sysctlbyname|sysctl)$")
    foreach(_import IN LISTS _imports)
        if(NOT _import IN_LIST _names)
            list(APPEND _failures "${_binary}: does not import ${_import}: the macOS backend is not linked in")
        endif()
    endforeach()
    # The build's own dependency graph says whether the binary is current.
    if(NINJA)
        get_filename_component(_build "${_binary}/../.." ABSOLUTE)
        execute_process(COMMAND "${NINJA}" -C "${_build}" -n cli/headroom-cli
                        OUTPUT_VARIABLE _plan ERROR_VARIABLE _plan RESULT_VARIABLE _status)
        if(NOT _status EQUAL 0 OR NOT _plan MATCHES "no work to do")
            list(APPEND _failures "${_binary}: out of date or not buildable (ninja -n: ${_plan}): rebuild the macos-${_arch} preset")
        endif()
    endif()
    list(LENGTH _failures _after)
    if(_after EQUAL _before)
        message("${_binary}: Mach-O 64-bit executable, ${_arch}, imports ${_imports}")
    endif()
endforeach()
if(_failures)
    list(JOIN _failures "\n  " _text)
    message(FATAL_ERROR "The macOS build is not right:\n  ${_text}")
endif()
if(_missing)
    list(JOIN _missing "\n  " _text)
    message("SKIP   : ${_text}")
endif()
