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
endfunction()
