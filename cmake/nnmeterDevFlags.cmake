# Developer flags for nnmeter's own tests, examples, tools and benchmarks.
# SPDX-License-Identifier: MIT
#
# Two unexported INTERFACE targets (B9/B14: flags never reach consumers through nnmeter::nnmeter):
#   nnmeter_dev_warnings  -Wall -Wextra -Wpedantic -Wconversion -Wshadow [+ -Werror]
#   nnmeter_dev_flags     nnmeter_dev_warnings + the sanitizers listed in NNMETER_SANITIZE
# Benchmarks link only the warnings: timing sanitized code is meaningless.

include_guard(GLOBAL)

add_library(nnmeter_dev_warnings INTERFACE)
add_library(nnmeter_dev_flags INTERFACE)
target_link_libraries(nnmeter_dev_flags INTERFACE nnmeter_dev_warnings)

if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
  target_compile_options(nnmeter_dev_warnings INTERFACE
    -Wall -Wextra -Wpedantic -Wconversion -Wshadow)
  if(NNMETER_WARNINGS_AS_ERRORS)
    target_compile_options(nnmeter_dev_warnings INTERFACE -Werror)
  endif()
elseif(MSVC)
  target_compile_options(nnmeter_dev_warnings INTERFACE /W4)
  if(NNMETER_WARNINGS_AS_ERRORS)
    target_compile_options(nnmeter_dev_warnings INTERFACE /WX)
  endif()
endif()

if(NNMETER_SANITIZE)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    message(FATAL_ERROR "NNMETER_SANITIZE needs GCC or Clang (compiler: ${CMAKE_CXX_COMPILER_ID})")
  endif()
  set(_nnmeter_san_known address undefined leak thread memory integer nullability
                         implicit-conversion safe-stack)
  foreach(_san IN LISTS NNMETER_SANITIZE)
    if(NOT _san IN_LIST _nnmeter_san_known)
      message(FATAL_ERROR "NNMETER_SANITIZE: unknown sanitizer '${_san}'")
    endif()
  endforeach()
  list(JOIN NNMETER_SANITIZE "," _nnmeter_san_csv)
  set(_nnmeter_san_flags
    "-fsanitize=${_nnmeter_san_csv}" -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_compile_options(nnmeter_dev_flags INTERFACE ${_nnmeter_san_flags})
  target_link_options(nnmeter_dev_flags INTERFACE ${_nnmeter_san_flags})
  message(STATUS "nnmeter: sanitizers for tests/examples/tools: ${_nnmeter_san_csv}")
endif()
