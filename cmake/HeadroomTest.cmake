# One executable and one ctest per test class:
#   headroom_add_test(TestFoo SOURCES TestFoo.cpp LIBS headroom_core LABELS core)
# Labels: "core" (Qt-free logic; also run under the sanitizers), "services"
# (Qt Core, no display), "ui"
# (offscreen widgets), "desktop" (Xvfb + D-Bus end-to-end).
function(headroom_add_test name)
    cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS;ENVIRONMENT" ${ARGN})
    add_executable(${name} ${T_SOURCES})
    target_link_libraries(${name} PRIVATE Qt6::Test ${T_LIBS})
    target_compile_definitions(${name} PRIVATE
        HEADROOM_TEST_DATA="${PROJECT_SOURCE_DIR}/tests/data"
        HEADROOM_FAKEPROC="$<TARGET_FILE:fakeproc>"
        HEADROOM_CLI_BIN="$<TARGET_FILE:headroom-cli>")
    target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
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
