# Runs weft-conform and checks its exit status and output; for tests whose
# expectation is more than "exit 0".
#   cmake -DTOOL=<weft-conform> -DARGS=<a|b|...> -DEXPECT_EXIT=<n>
#         [-DEXPECT=<regex|regex|...>] -P expect_conform.cmake
# Lists use '|' so that they survive add_test's argument splitting; the
# regexes therefore contain no '|'.
string(REPLACE "|" ";" _args "${ARGS}")
string(REPLACE "|" ";" _expect "${EXPECT}")
execute_process(COMMAND ${TOOL} ${_args}
  RESULT_VARIABLE _rc OUTPUT_VARIABLE _out ERROR_VARIABLE _err)
message("${_out}")
if(NOT _err STREQUAL "")
  message("stderr:\n${_err}")
endif()
if(NOT _rc STREQUAL "${EXPECT_EXIT}")
  message(FATAL_ERROR "weft-conform exited with '${_rc}', expected ${EXPECT_EXIT}")
endif()
foreach(_re IN LISTS _expect)
  if(NOT _out MATCHES "${_re}")
    message(FATAL_ERROR "weft-conform's output does not match '${_re}'")
  endif()
endforeach()
