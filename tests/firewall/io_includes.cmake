# Support modules include the core only through <nnmeter.hpp> (B3, B8): then they work unchanged
# with single_include/nnmeter.hpp, which shares the NNMETER_HPP guard. An io header that includes
# an individual core header (<nnmeter/ir/graph.hpp>, ...) drags the multi-header tree in next to
# the amalgamation, and every core entity is defined twice.
#   cmake -DREPO_ROOT=<source tree> -P io_includes.cmake
# SPDX-License-Identifier: MIT

cmake_minimum_required(VERSION 3.16)

file(GLOB_RECURSE headers RELATIVE "${REPO_ROOT}" "${REPO_ROOT}/include/nnmeter/io/*.hpp")
list(SORT headers)
set(violations "")
foreach(header IN LISTS headers)
  file(STRINGS "${REPO_ROOT}/${header}" lines)
  set(n 0)
  foreach(line IN LISTS lines)
    math(EXPR n "${n} + 1")
    if(line MATCHES "^[ \t]*#[ \t]*include[ \t]*[<\"](nnmeter/[^>\"]+)[>\"]")
      set(included "${CMAKE_MATCH_1}")
      if(NOT included MATCHES "^nnmeter/io/")
        string(APPEND violations "  ${header}:${n}: #include <${included}>\n")
      endif()
    endif()
  endforeach()
endforeach()

list(LENGTH headers count)
if(violations)
  message("${violations}")
  message(FATAL_ERROR "io headers (above) include individual core headers: include "
                      "<nnmeter.hpp> instead, so the support modules also work with "
                      "single_include/nnmeter.hpp")
endif()
message("${count} io headers include the core through <nnmeter.hpp> only")
