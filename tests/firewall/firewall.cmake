# Dependency firewall: <nnmeter.hpp> must pull in nothing but the standard library, and not the
# heavy or I/O parts of it. Run as
#   cmake -DCOMPILER=<c++> -DSTD=c++17 -DHEADER_ROOT=<dir with nnmeter.hpp> -DREPO_ROOT=<src>
#         -DWORK_DIR=<scratch dir> -DNAME=<label> -P firewall.cmake
# It compiles a translation unit holding only `#include <nnmeter.hpp>` with `-H -fsyntax-only`
# and fails when the printed include list names a banned header. When HEADER_ROOT has no
# nnmeter.hpp yet it prints "...; skipped" (the test's SKIP_REGULAR_EXPRESSION).
# SPDX-License-Identifier: MIT

cmake_minimum_required(VERSION 3.16)

# Third-party path fragments and standard headers banned from the core (B7.1, B7.6, B13.2).
set(banned_fragments "google/protobuf" "flatbuffers" "nlohmann" "onnx" "xgboost" "CLI/")
set(banned_std_headers "iostream" "sstream" "regex")
# Repository folders the core must never reach (opt-in support modules, generated tables).
set(banned_repo_dirs "include/nnmeter/io/" "include/nnmeter/devices/")

foreach(var COMPILER STD HEADER_ROOT REPO_ROOT WORK_DIR NAME)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "firewall.cmake: -D${var}=... is required")
  endif()
endforeach()

if(NOT EXISTS "${HEADER_ROOT}/nnmeter.hpp")
  message("firewall ${NAME}: ${HEADER_ROOT}/nnmeter.hpp does not exist; skipped")
  return()
endif()

file(MAKE_DIRECTORY "${WORK_DIR}")
set(tu "${WORK_DIR}/firewall_${NAME}.cpp")
file(WRITE "${tu}" "#include <nnmeter.hpp>\n")

if(CMAKE_VERSION VERSION_LESS 3.23)  # no %f (microseconds) before 3.23
  set(stamp "%s000000")
else()
  set(stamp "%s%f")
endif()
string(TIMESTAMP t0 "${stamp}")
execute_process(
  COMMAND "${CMAKE_COMMAND}" -E env LC_ALL=C
          "${COMPILER}" -H -fsyntax-only "-std=${STD}" "-I${HEADER_ROOT}" "${tu}"
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
string(TIMESTAMP t1 "${stamp}")

if(NOT rc EQUAL 0)
  # Show the diagnostics without the -H include list.
  string(REGEX REPLACE "(^|\n)\\.+ [^\n]*" "" diagnostics "${err}")
  message("${out}${diagnostics}")
  message(FATAL_ERROR "firewall ${NAME}: <nnmeter.hpp> does not compile on its own "
                      "(-std=${STD}); compiler output above")
endif()

get_filename_component(repo_root "${REPO_ROOT}" REALPATH)
string(REPLACE "\n" ";" lines "${err}")
set(stack "")
set(count 0)
set(violations "")
foreach(line IN LISTS lines)
  if(NOT line MATCHES "^(\\.+) (.+)$")
    continue()
  endif()
  string(LENGTH "${CMAKE_MATCH_1}" depth)
  get_filename_component(path "${CMAKE_MATCH_2}" REALPATH)
  math(EXPR count "${count} + 1")
  # Keep the include chain: stack[i] is the header at depth i+1.
  math(EXPR keep "${depth} - 1")
  list(LENGTH stack n)
  while(n GREATER keep)
    list(REMOVE_AT stack -1)
    list(LENGTH stack n)
  endwhile()
  list(APPEND stack "${path}")

  set(why "")
  string(FIND "${path}" "${repo_root}/" pos)
  if(pos EQUAL 0)
    # Our own headers: judge the repository-relative path, not the checkout location.
    file(RELATIVE_PATH rel "${repo_root}" "${path}")
    foreach(dir IN LISTS banned_repo_dirs)
      string(FIND "${rel}" "${dir}" hit)
      if(hit EQUAL 0)
        set(why "opt-in/generated header ${rel}")
      endif()
    endforeach()
  else()
    foreach(fragment IN LISTS banned_fragments)
      string(FIND "${path}" "${fragment}" hit)
      if(NOT hit EQUAL -1)
        set(why "third-party header (${fragment})")
      endif()
    endforeach()
    get_filename_component(base "${path}" NAME)
    if(base IN_LIST banned_std_headers)
      set(why "<${base}>")
    endif()
  endif()
  if(why)
    list(REVERSE stack)
    list(JOIN stack "\n      included from " chain)
    list(REVERSE stack)
    string(REPLACE "${repo_root}/" "" chain "${chain}")
    string(APPEND violations "  ${why}:\n      ${chain}\n")
  endif()
endforeach()

if(count EQUAL 0)
  message(FATAL_ERROR "firewall ${NAME}: the compiler printed no include list for -H:\n${err}")
endif()

math(EXPR ms "(${t1} - ${t0}) / 1000")
message("firewall ${NAME}: <nnmeter.hpp> pulls in ${count} headers; "
        "-fsyntax-only -std=${STD} took ${ms} ms")
if(violations)
  message("${violations}")
  message(FATAL_ERROR "firewall ${NAME}: banned headers (above) reached from <nnmeter.hpp>: "
                      "the core may use the standard library only, and not "
                      "<iostream>, <sstream> or <regex>")
endif()
