# The layers point one way: app -> ui -> services -> core, and cli -> core.
# Each layer's CMakeLists calls headroom_check_layer() at configure time, so a
# back-edge fails the configure step with the file and line that made it,
# whether it is a link (target_link_libraries) or an include.
# The include rules are also checked by the LayerCheck test, so an include
# edited into an existing file fails the tests even before CMake reconfigures.
#
#   headroom_check_layer(TARGET headroom_services DIR ${CMAKE_CURRENT_SOURCE_DIR}
#       FORBID_LINKS "Widgets|headroom_ui"                    # regex on LINK_LIBRARIES
#       FORBID_INCLUDES "${HEADROOM_SERVICES_INCLUDE_RULE}")  # regex on #include lines
set(HEADROOM_CORE_INCLUDE_RULE "[<\"](cli|services|ui|app)/|<Q[A-Za-z]|spdlog")
set(HEADROOM_CLI_INCLUDE_RULE "[<\"](services|ui|app)/|<Q[A-Za-z]|spdlog")
set(HEADROOM_SERVICES_INCLUDE_RULE "[<\"](ui|app|cli)/|<Qt(Gui|Widgets|DBus)/|qcustomplot")
set(HEADROOM_UI_INCLUDE_RULE "[<\"](app|cli)/|<QtDBus/")
function(headroom_check_layer)
    cmake_parse_arguments(L "" "TARGET;DIR;FORBID_LINKS;FORBID_INCLUDES" "" ${ARGN})
    if(L_TARGET AND L_FORBID_LINKS)
        get_target_property(_links ${L_TARGET} LINK_LIBRARIES)
        foreach(_lib IN LISTS _links)
            if(_lib MATCHES "${L_FORBID_LINKS}")
                message(FATAL_ERROR "${L_TARGET} must not link ${_lib}: the layers point one way "
                    "(app -> ui -> services -> core, cli -> core)")
            endif()
        endforeach()
    endif()
    if(L_FORBID_INCLUDES)
        # No CONFIGURE_DEPENDS: it would make every build re-check the tree.
        # A new file means an edited CMakeLists (so a new configure), and the
        # LayerCheck test reads the tree again on every run.
        file(GLOB_RECURSE _sources "${L_DIR}/*.h" "${L_DIR}/*.cpp")
        foreach(_file IN LISTS _sources)
            file(STRINGS "${_file}" _includes REGEX "^[ \t]*#[ \t]*include")
            foreach(_line IN LISTS _includes)
                if(_line MATCHES "${L_FORBID_INCLUDES}")
                    file(RELATIVE_PATH _rel "${PROJECT_SOURCE_DIR}" "${_file}")
                    message(FATAL_ERROR "${_rel}: '${_line}' crosses a layer upwards "
                        "(app -> ui -> services -> core, cli -> core)")
                endif()
            endforeach()
        endforeach()
    endif()
endfunction()
