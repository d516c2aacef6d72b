# Compiler settings shared by every etsecd target. Warnings are errors on our own code only:
# generated protobuf/gRPC sources get their own library without these flags.

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_C_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
  set(CMAKE_CXX_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
endif()

set(ETSECD_SANITIZE "" CACHE STRING "Sanitizers: '', 'address,undefined' or 'thread'")

add_library(etsecd_warnings INTERFACE)
target_compile_options(etsecd_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Werror -Wshadow -Wnon-virtual-dtor -Wcast-align -Wnull-dereference
  -Wimplicit-fallthrough -Wformat=2)

if(ETSECD_SANITIZE)
  add_compile_options(-fsanitize=${ETSECD_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${ETSECD_SANITIZE})
endif()

# etsecd_library(NAME SOURCES... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...]): a static library with our
# warnings, its include/ directory public.
function(etsecd_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}/include")
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE etsecd_warnings ${ARG_PRIVATE_DEPS})
endfunction()
