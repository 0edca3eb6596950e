# Sanitizer and fuzzing builds, each in its own build directory
# (scripts/test --sanitize: build-asan; scripts/test --tsan: build-tsan;
# scripts/fuzz: build-fuzz). Included from the top-level CMakeLists.txt before
# any target, so every target, tests included, is instrumented alike.
#
#   -DCERTCTL_SANITIZE=address,undefined   ASan + UBSan (any compiler)
#   -DCERTCTL_SANITIZE=thread              TSan
#   -DCERTCTL_FUZZ=ON                      libFuzzer targets in fuzz/ (clang
#                                          only; implies address,undefined)
set(CERTCTL_SANITIZE "" CACHE STRING
    "Sanitizers to build with: address,undefined, thread, or empty for none")
set_property(CACHE CERTCTL_SANITIZE PROPERTY STRINGS "" address,undefined thread)
option(CERTCTL_FUZZ "Build the libFuzzer targets in fuzz/ (clang)" OFF)

if(CERTCTL_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CERTCTL_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++")
  endif()
  if(NOT CERTCTL_SANITIZE)
    set(CERTCTL_SANITIZE address,undefined)
  endif()
  # Coverage feedback for the code under test; the fuzz targets themselves
  # link libFuzzer's main with -fsanitize=fuzzer (fuzz/CMakeLists.txt).
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

if(CERTCTL_SANITIZE STREQUAL "address,undefined" OR CERTCTL_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=${CERTCTL_SANITIZE} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${CERTCTL_SANITIZE})
  if(CERTCTL_SANITIZE MATCHES "undefined")
    # Any undefined behaviour stops the program: a test cannot pass over it.
    add_compile_options(-fno-sanitize-recover=all)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12's -Wmaybe-uninitialized fires inside libstdc++'s <regex> and
    # <functional> once the sanitizers instrument them (GCC documents that
    # -fsanitize can cause such false warnings), which -Werror turns into a
    # failed build. The uninstrumented build keeps the warning.
    list(APPEND CERTCTL_WARNINGS -Wno-maybe-uninitialized)
  endif()
elseif(CERTCTL_SANITIZE)
  message(FATAL_ERROR
          "CERTCTL_SANITIZE must be address,undefined, thread or empty, not ${CERTCTL_SANITIZE}")
endif()
