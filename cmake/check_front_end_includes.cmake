# The store is core's private business: the front ends (daemon/ and cmd/)
# call core/ops and never include a store header (but certctl/store/database.h,
# the Database both programs open), one of core's private headers (core/src)
# or libpqxx. Most of these would not even be found, core/src being on no
# front end's include path; this check also catches the spellings that would
# ("core/src/store/...", <pqxx/...>), and says why.
#
# Run by the build before certctld_lib and certctl-admin compile (target
# check_front_end_includes), and by the test front_end_includes.
# Inputs: ROOT (the source tree to check), STAMP (touched when it passes).
file(GLOB_RECURSE files "${ROOT}/daemon/*.cc" "${ROOT}/daemon/*.h" "${ROOT}/cmd/*.cc"
     "${ROOT}/cmd/*.h")
set(violations "")
foreach(file IN LISTS files)
  file(STRINGS "${file}" lines REGEX "^[ \t]*#[ \t]*include")
  foreach(line IN LISTS lines)
    if(line MATCHES "[<\"](certctl/store/[^\">]*|store/[^\">]*|core/src/[^\">]*|pqxx/?[^\">]*)[\">]")
      if(NOT CMAKE_MATCH_1 STREQUAL "certctl/store/database.h")
        file(RELATIVE_PATH where "${ROOT}" "${file}")
        list(APPEND violations "${where}: #include ${CMAKE_MATCH_1}")
      endif()
    endif()
  endforeach()
endforeach()
if(violations)
  list(JOIN violations "\n  " text)
  message(FATAL_ERROR
    "daemon/ and cmd/ reach the database through core/ops only; the one store header "
    "they may include is certctl/store/database.h:\n  ${text}")
endif()
if(STAMP)
  file(TOUCH "${STAMP}")
endif()
