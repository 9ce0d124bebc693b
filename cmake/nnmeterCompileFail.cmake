# Driver for one compile-fail test (Eigen's failtest scheme), run by ctest as
#   cmake -DCOMPILER=<c++> -DSTD=c++17 -DSOURCE=<file.cpp> -DMODE=ok|ko
#         -DINCLUDE_DIRS="<dir>|<dir>..." -P nnmeterCompileFail.cmake
# MODE=ok  compiles SOURCE as is: it must compile.
# MODE=ko  compiles SOURCE with -DNNMETER_SHOULD_FAIL: it must NOT compile, and the compiler's
#          output must match every `// EXPECT-ERROR: <regex>` line of SOURCE (CMake regex syntax;
#          use `a|b` when C++17's static_assert text and C++20's constraint message differ).
# The compiler runs with LC_ALL=C, so quotes in its messages are plain ASCII.
# SPDX-License-Identifier: MIT

cmake_minimum_required(VERSION 3.16)

foreach(var COMPILER STD SOURCE MODE)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "nnmeterCompileFail.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT MODE MATCHES "^(ok|ko)$")
  message(FATAL_ERROR "nnmeterCompileFail.cmake: MODE must be ok or ko, not '${MODE}'")
endif()

set(flags -fsyntax-only "-std=${STD}")
string(REPLACE "|" ";" include_dirs "${INCLUDE_DIRS}")
foreach(dir IN LISTS include_dirs)
  if(dir)
    list(APPEND flags "-I${dir}")
  endif()
endforeach()
if(MODE STREQUAL "ko")
  list(APPEND flags -DNNMETER_SHOULD_FAIL)
endif()

set(expected "")
if(MODE STREQUAL "ko")
  file(STRINGS "${SOURCE}" expect_lines REGEX "//[ \t]*EXPECT-ERROR:")
  foreach(line IN LISTS expect_lines)
    string(REGEX REPLACE "^.*//[ \t]*EXPECT-ERROR:[ \t]*" "" regex "${line}")
    string(STRIP "${regex}" regex)
    if(NOT regex STREQUAL "")
      list(APPEND expected "${regex}")
    endif()
  endforeach()
  if(NOT expected)
    message(FATAL_ERROR "${SOURCE}: no `// EXPECT-ERROR: <regex>` line; a compile-fail test "
                        "must say which diagnostic it expects")
  endif()
endif()

execute_process(
  COMMAND "${CMAKE_COMMAND}" -E env LC_ALL=C "${COMPILER}" ${flags} "${SOURCE}"
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE out)
list(JOIN flags " " shown_flags)
set(shown "${COMPILER} ${shown_flags} ${SOURCE}")

if(MODE STREQUAL "ok")
  if(NOT rc EQUAL 0)
    message("${shown}\n${out}")
    message(FATAL_ERROR "expected to compile, but it failed (output above)")
  endif()
  message("ok: compiles\n  ${shown}")
  return()
endif()

if(rc EQUAL 0)
  message("${shown}\n${out}")
  message(FATAL_ERROR "expected a compile error with -DNNMETER_SHOULD_FAIL, but it compiled")
endif()
foreach(regex IN LISTS expected)
  if(NOT out MATCHES "${regex}")
    message("${shown}\n${out}")
    message(FATAL_ERROR "failed to compile as expected, but the output (above) does not "
                        "match EXPECT-ERROR `${regex}`")
  endif()
endforeach()
message("ok: fails to compile with the expected diagnostic\n  ${shown}")
