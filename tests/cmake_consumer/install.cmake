# Fixture setup for the find_package/pkg-config consumer tests: a fresh install of the build
# tree into PREFIX.
#   cmake -DBUILD_DIR=<dir> -DPREFIX=<dir> [-DCONFIG=<cfg>] -DEXPECTED_FILES="a|b|..."
#         -P install.cmake
# SPDX-License-Identifier: MIT
cmake_minimum_required(VERSION 3.16)
file(REMOVE_RECURSE "${PREFIX}")
set(config_args "")
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()
execute_process(
  COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${config_args}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BUILD_DIR} --prefix ${PREFIX} failed (${rc})")
endif()
string(REPLACE "|" ";" expected_files "${EXPECTED_FILES}")
foreach(f IN LISTS expected_files)
  if(NOT EXISTS "${PREFIX}/${f}")
    message(FATAL_ERROR "installed tree lacks ${f}")
  endif()
endforeach()
