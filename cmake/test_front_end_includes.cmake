# Test of check_front_end_includes.cmake: a front end file including a store
# header fails the check (naming the file and header); database.h passes.
# Inputs: WORK (a scratch directory), CHECK (the script under test).
file(REMOVE_RECURSE "${WORK}")
file(WRITE "${WORK}/daemon/handlers/fine.cc"
     "#include \"certctl/store/database.h\"\n#include \"certctl/ops/op.h\"\n")
file(WRITE "${WORK}/cmd/certctl-admin/fine.cc" "#include \"app.h\"\n")
execute_process(COMMAND "${CMAKE_COMMAND}" -DROOT=${WORK} -P "${CHECK}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the check refused allowed includes:\n${out}")
endif()
foreach(bad IN ITEMS "store/issuer_repo.h" "certctl/store/operation_lock.h"
                     "core/src/store/crl_repo.h" "<pqxx/pqxx>")
  if(bad MATCHES "^<")
    set(line "#include ${bad}\n")
  else()
    set(line "#include \"${bad}\"\n")
  endif()
  file(WRITE "${WORK}/cmd/certctl-admin/bad.cc" "${line}")
  execute_process(COMMAND "${CMAKE_COMMAND}" -DROOT=${WORK} -P "${CHECK}"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(rc EQUAL 0)
    message(FATAL_ERROR "the check let `${line}` through")
  endif()
  string(FIND "${out}" "cmd/certctl-admin/bad.cc" named)
  if(named EQUAL -1)
    message(FATAL_ERROR "the refusal of `${line}` does not name the file:\n${out}")
  endif()
endforeach()
message(STATUS "front end include check: refuses store headers, allows database.h")
