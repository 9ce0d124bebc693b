# pkg-config consumer: compile and run find_package/main.cpp with the flags that the installed
# nnmeter.pc gives.
#   cmake -DPKG_CONFIG=<pkg-config> -DPC_DIR=<dir of nnmeter.pc> -DCOMPILER=<c++>
#         -DSOURCE=<main.cpp> -DWORK_DIR=<dir> -DEXPECTED_VERSION=<x.y.z> -P pkg_config.cmake
# SPDX-License-Identifier: MIT
cmake_minimum_required(VERSION 3.16)

set(pc_dir "${PC_DIR}")
set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
set(ENV{PKG_CONFIG_LIBDIR} "${pc_dir}")  # see only the package under test

execute_process(COMMAND "${PKG_CONFIG}" --modversion nnmeter
  RESULT_VARIABLE rc OUTPUT_VARIABLE version ERROR_VARIABLE err
  OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config --modversion nnmeter failed:\n${err}")
endif()
if(NOT version STREQUAL EXPECTED_VERSION)
  message(FATAL_ERROR "nnmeter.pc says version '${version}', expected '${EXPECTED_VERSION}'")
endif()

execute_process(COMMAND "${PKG_CONFIG}" --cflags nnmeter
  RESULT_VARIABLE rc OUTPUT_VARIABLE cflags ERROR_VARIABLE err
  OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config --cflags nnmeter failed:\n${err}")
endif()
separate_arguments(cflags UNIX_COMMAND "${cflags}")
message("pkg-config: nnmeter ${version}, cflags: ${cflags}")

file(MAKE_DIRECTORY "${WORK_DIR}")
set(exe "${WORK_DIR}/consumer_pkg_config")
execute_process(
  COMMAND "${COMPILER}" -std=c++17 ${cflags}
          "-DNNMETER_EXPECTED_VERSION=\"${EXPECTED_VERSION}\"" "${SOURCE}" -o "${exe}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "compiling with the pkg-config flags failed:\n${out}")
endif()
execute_process(COMMAND "${exe}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the pkg-config consumer exited with ${rc}")
endif()
