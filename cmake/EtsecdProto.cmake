# etsecd_proto_library(NAME PROTOS file.proto... [IMPORT_DIR dir] [GRPC]): generates C++ (and gRPC
# stubs with GRPC) into the build tree and builds them as a static library. Generated code is compiled
# without our warnings-as-errors; its headers are reachable only by targets that link this library.
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)

function(etsecd_proto_library name)
  cmake_parse_arguments(ARG "GRPC" "IMPORT_DIR" "PROTOS" ${ARGN})
  if(NOT ARG_IMPORT_DIR)
    set(ARG_IMPORT_DIR "${PROJECT_SOURCE_DIR}/proto")
  endif()
  set(out "${CMAKE_CURRENT_BINARY_DIR}/gen")
  file(MAKE_DIRECTORY "${out}")
  set(srcs)
  foreach(proto IN LISTS ARG_PROTOS)
    get_filename_component(abs "${proto}" ABSOLUTE)
    file(RELATIVE_PATH rel "${ARG_IMPORT_DIR}" "${abs}")
    string(REGEX REPLACE "\\.proto$" "" base "${rel}")
    set(gen "${out}/${base}.pb.cc" "${out}/${base}.pb.h")
    set(cmd_args --cpp_out=${out})
    if(ARG_GRPC)
      list(APPEND gen "${out}/${base}.grpc.pb.cc" "${out}/${base}.grpc.pb.h")
      list(APPEND cmd_args --grpc_out=${out} --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>)
    endif()
    add_custom_command(
      OUTPUT ${gen}
      COMMAND protobuf::protoc ARGS ${cmd_args} -I "${ARG_IMPORT_DIR}" "${abs}"
      DEPENDS "${abs}" protobuf::protoc
      COMMENT "protoc ${rel}" VERBATIM)
    list(APPEND srcs ${gen})
  endforeach()
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC "${out}")
  target_link_libraries(${name} PUBLIC protobuf::libprotobuf)
  if(ARG_GRPC)
    target_link_libraries(${name} PUBLIC gRPC::grpc++)
  endif()
endfunction()
