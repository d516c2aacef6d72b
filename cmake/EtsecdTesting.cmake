# Tests are doctest binaries registered with CTest. Labels select suites:
#   unit      fast, pure tests (run in every preset, including sanitizers)
#   sim       the seeded Raft/Shamir simulator
#   process   multi-process tests with real members
#   fuzz      bounded fuzz smoke runs
#   e2e       the Kubernetes end-to-end suite
find_package(doctest CONFIG REQUIRED)

add_library(etsecd_doctest_main STATIC "${CMAKE_CURRENT_LIST_DIR}/doctest_main.cc")
target_link_libraries(etsecd_doctest_main PUBLIC doctest::doctest)

# etsecd_test(NAME SOURCES... DEPS ... [LABELS ...] [TIMEOUT s] [ARGS ...])
function(etsecd_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS;ARGS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE etsecd_doctest_main etsecd_warnings ${ARG_DEPS})
  add_test(NAME ${name} COMMAND ${name} ${ARG_ARGS})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT})
  if("process" IN_LIST ARG_LABELS)
    # Real processes bind real ports: never alongside another test that might want the same ones.
    set_tests_properties(${name} PROPERTIES RUN_SERIAL TRUE)
  endif()
endfunction()

# etsecd_fuzzer(NAME SOURCES... DEPS ... [SECONDS s] [SEEDS dir]): a libFuzzer target (fuzz preset) and a
# CTest test (label fuzz) that runs it for a bounded time. New inputs go to a corpus in the build tree;
# SEEDS (in the source tree) is read but never written.
function(etsecd_fuzzer name)
  cmake_parse_arguments(ARG "" "SECONDS;SEEDS" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_SECONDS)
    set(ARG_SECONDS 20)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE etsecd_warnings ${ARG_DEPS})
  set(corpus "${CMAKE_CURRENT_BINARY_DIR}/${name}-corpus")
  file(MAKE_DIRECTORY "${corpus}")
  set(dirs "${corpus}")
  if(ARG_SEEDS)
    list(APPEND dirs "${ARG_SEEDS}")
  endif()
  add_test(NAME ${name} COMMAND ${name} -max_total_time=${ARG_SECONDS} -rss_limit_mb=2048 -timeout=10
           -print_final_stats=1 ${dirs})
  math(EXPR timeout "${ARG_SECONDS} * 3 + 60")
  set_tests_properties(${name} PROPERTIES LABELS fuzz TIMEOUT ${timeout})
endfunction()
