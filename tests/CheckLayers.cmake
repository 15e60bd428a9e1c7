# Runs the configure-time layer check as cmake -P: on a scratch folder (a
# services file that includes a widget header and a core file that includes a
# services header must each be refused, a clean folder accepted), then on the
# source tree itself.
#   cmake -DSOURCE=<repo> -DWORK=<scratch dir> -P tests/CheckLayers.cmake
set(PROJECT_SOURCE_DIR ${WORK})
include(${SOURCE}/cmake/HeadroomLayers.cmake)

function(expect_refused name content regex)
    file(REMOVE_RECURSE ${WORK}/${name})
    file(WRITE ${WORK}/${name}/Probe.cpp "${content}")
    execute_process(COMMAND ${CMAKE_COMMAND} -DSOURCE=${SOURCE} -DWORK=${WORK} -DDIR=${WORK}/${name}
        "-DFORBID=${regex}" -P ${SOURCE}/tests/CheckLayers.cmake
        RESULT_VARIABLE rc ERROR_VARIABLE err)
    if(rc EQUAL 0)
        message(FATAL_ERROR "${name}: the layer check accepted a back-edge")
    endif()
    if(NOT err MATCHES "crosses[ \t\r\n]+a[ \t\r\n]+layer")
        message(FATAL_ERROR "${name}: refused for another reason: ${err}")
    endif()
    message(STATUS "${name}: refused as it should be")
endfunction()

if(DIR)
    # The inner run: one check, as a layer's CMakeLists makes it.
    headroom_check_layer(DIR ${DIR} FORBID_INCLUDES "${FORBID}")
    return()
endif()

set(services_rule "${HEADROOM_SERVICES_INCLUDE_RULE}")
set(core_rule "${HEADROOM_CORE_INCLUDE_RULE}")
expect_refused(services-includes-ui "#include \"ui/MainWindow.h\"\n" "${services_rule}")
expect_refused(services-includes-widgets "#include <QtWidgets/QWidget>\n" "${services_rule}")
expect_refused(core-includes-services "  #  include \"services/SnapshotPtr.h\"\n" "${core_rule}")
expect_refused(core-includes-qt "#include <QString>\n" "${core_rule}")

file(REMOVE_RECURSE ${WORK}/clean)
file(WRITE ${WORK}/clean/Probe.cpp "#include \"headroom/Snapshot.h\"\n#include <vector>\n")
headroom_check_layer(DIR ${WORK}/clean FORBID_INCLUDES "${core_rule}")
message(STATUS "clean: accepted")

# And the tree as it is now, with the rules its CMakeLists use.
foreach(layer core cli services ui)
    string(TOUPPER ${layer} _upper)
    headroom_check_layer(DIR ${SOURCE}/${layer} FORBID_INCLUDES "${HEADROOM_${_upper}_INCLUDE_RULE}")
    message(STATUS "${layer}/: no include crosses a layer upwards")
endforeach()
