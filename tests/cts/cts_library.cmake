# weft_cts: the conformance suite as a static library (tests/cts/cts_*.c),
# linked by the weft-conform tool (tools/weft-conform) and by the tests in
# tests/cts. Both include this file; the first to do so defines the target,
# so the tool builds with WEFT_BUILD_TESTS=OFF and the tests without tools.
include_guard(GLOBAL)
find_package(Threads REQUIRED)

set(_weft_cts_dir ${CMAKE_CURRENT_LIST_DIR})
add_library(weft_cts STATIC
  ${_weft_cts_dir}/cts_cases.c
  ${_weft_cts_dir}/cts_contract.c
  ${_weft_cts_dir}/cts_host.c
  ${_weft_cts_dir}/cts_ops.c
  ${_weft_cts_dir}/cts_run.c
  ${_weft_cts_dir}/cts_tensor.c)
# core/src for the reference kernels (cpu_ref/ops/kernels.h) and the
# built-in backend's negotiation entry (cpu_ref/cpu_ref.h): the oracle.
target_include_directories(weft_cts
  PUBLIC ${_weft_cts_dir}
  PRIVATE ${PROJECT_SOURCE_DIR}/core/src)
target_link_libraries(weft_cts PUBLIC weft_static Threads::Threads ${CMAKE_DL_LIBS} m)
