# weft_add_plugin(<name>
#   SOURCES <files...>
#   [LIBRARIES <libs...>] [INCLUDES <dirs...>] [DEFINITIONS <defs...>]
#   [NO_INSTALL] [OUTPUT_DIRECTORY <dir>])
#
# Declares a backend plugin: a MODULE library named libweft-<name>.so that
# sees only the ABI headers (target weft::abi), never libweft. Used in tree
# and, installed with the SDK, by out-of-tree plugins (find_package(weft)).
#
# weft_backend_enabled(<BACKEND> <found> <what is missing> <out-var>)
# Resolves WEFT_WITH_<BACKEND> (AUTO|ON|OFF) against whether its SDK was found:
# AUTO skips with a clear configure message, ON fails, OFF skips silently.

function(weft_add_plugin name)
  cmake_parse_arguments(P "NO_INSTALL" "OUTPUT_DIRECTORY"
                        "SOURCES;LIBRARIES;INCLUDES;DEFINITIONS" ${ARGN})
  set(target weft-plugin-${name})
  add_library(${target} MODULE ${P_SOURCES})
  if(TARGET weft::abi)
    target_link_libraries(${target} PRIVATE weft::abi)
  else()
    target_link_libraries(${target} PRIVATE weft_abi)
  endif()
  if(P_LIBRARIES)
    target_link_libraries(${target} PRIVATE ${P_LIBRARIES})
  endif()
  if(P_INCLUDES)
    target_include_directories(${target} PRIVATE ${P_INCLUDES})
  endif()
  if(P_DEFINITIONS)
    target_compile_definitions(${target} PRIVATE ${P_DEFINITIONS})
  endif()
  if(NOT P_OUTPUT_DIRECTORY)
    if(DEFINED WEFT_PLUGIN_OUTPUT_DIR)
      set(P_OUTPUT_DIRECTORY ${WEFT_PLUGIN_OUTPUT_DIR})
    else()
      set(P_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
    endif()
  endif()
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME "weft-${name}"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIRECTORY})
  # A plugin must resolve every symbol at link time except its entry's callers:
  # an unresolved reference would only show up as a dlopen failure.
  # Under a sanitizer the runtime's symbols come from the executable (gcc) or
  # are not linked into modules at all (clang), so the check is left out.
  set(_weft_sanitized FALSE)
  if(WEFT_SANITIZE_FLAGS OR CMAKE_C_FLAGS MATCHES "-fsanitize")
    set(_weft_sanitized TRUE)
  endif()
  if(NOT APPLE AND NOT _weft_sanitized)
    target_link_options(${target} PRIVATE "LINKER:--no-undefined")
  endif()
  if(NOT P_NO_INSTALL AND DEFINED WEFT_INSTALL_PLUGINDIR)
    install(TARGETS ${target} LIBRARY DESTINATION ${WEFT_INSTALL_PLUGINDIR})
  endif()
endfunction()

function(weft_backend_enabled backend found missing out_var)
  set(mode "${WEFT_WITH_${backend}}")
  if(NOT mode)
    set(mode AUTO)
  endif()
  string(TOUPPER "${mode}" mode)
  if(mode STREQUAL "OFF")
    message(STATUS "weft: ${backend} plugin disabled (WEFT_WITH_${backend}=OFF)")
    set(${out_var} FALSE PARENT_SCOPE)
  elseif(found)
    message(STATUS "weft: ${backend} plugin enabled")
    set(${out_var} TRUE PARENT_SCOPE)
  elseif(mode STREQUAL "ON")
    message(FATAL_ERROR "weft: WEFT_WITH_${backend}=ON but ${missing}")
  else()
    message(STATUS "weft: skipping ${backend} plugin: ${missing} "
                   "(set WEFT_WITH_${backend}=OFF to silence, ON to require)")
    set(${out_var} FALSE PARENT_SCOPE)
  endif()
endfunction()
