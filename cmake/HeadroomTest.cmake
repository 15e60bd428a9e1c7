# One executable and one ctest per test class:
#   headroom_add_test(TestFoo SOURCES TestFoo.cpp LIBS headroom_core LABELS core)
# Labels: "core" (Qt-free logic; also run under the sanitizers), "services"
# (Qt Core, no display), "ui"
# (offscreen widgets), "desktop" (Xvfb + D-Bus end-to-end).
# Every test parses Qt Core and the standard library the same way: the tests
# of a folder share one precompiled header of those, made once by a target of
# their own. GCC and Clang use it only where the macros it saw are defined
# the same way: QtTest's headers are left out (what they say depends on the
# Qt modules a test links), and each folder has its own (Qt defines the
# folder in QT_TESTCASE_BUILDDIR).
function(headroom_test_pch name)
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
        return()
    endif()
    file(RELATIVE_PATH folder ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
    string(MAKE_C_IDENTIFIER "${folder}" folder)
    set(donor headroom_pch_${folder})
    if(NOT TARGET ${donor})
        add_library(${donor} OBJECT ${PROJECT_SOURCE_DIR}/tests/support/PrecompiledHeader.cpp)
        headroom_test_flags(${donor} headroom_core)
        target_precompile_headers(${donor} PRIVATE
            <QtCore> <chrono> <filesystem> <fstream> <string> <thread> <vector>)
    endif()
    target_precompile_headers(${name} REUSE_FROM ${donor})
endfunction()

function(headroom_test_flags target libs)
    target_link_libraries(${target} PRIVATE Qt6::Test ${libs})
    target_compile_definitions(${target} PRIVATE
        HEADROOM_TEST_DATA="${PROJECT_SOURCE_DIR}/tests/data"
        HEADROOM_FAKEPROC="$<TARGET_FILE:fakeproc>"
        HEADROOM_CLI_BIN="$<TARGET_FILE:headroom-cli>")
    target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
    # A test's own code is not what is measured: unoptimised, it compiles in
    # two thirds of the time. The libraries it tests keep the build's flags.
    if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
        target_compile_options(${target} PRIVATE -O0)
    endif()
endfunction()

function(headroom_add_test name)
    cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS;ENVIRONMENT" ${ARGN})
    add_executable(${name} ${T_SOURCES})
    headroom_test_flags(${name} "${T_LIBS}")
    headroom_test_pch(${name})
    add_dependencies(${name} fakeproc headroom-cli)
    add_test(NAME ${name} COMMAND ${name})
    if(NOT T_TIMEOUT)
        set(T_TIMEOUT 120)
    endif()
    set_tests_properties(${name} PROPERTIES
        LABELS "${T_LABELS}"
        TIMEOUT ${T_TIMEOUT}
        ENVIRONMENT "QT_QPA_PLATFORM=offscreen;${T_ENVIRONMENT}")
endfunction()
