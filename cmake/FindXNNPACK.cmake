# FindXNNPACK
# -----------
# Finds XNNPACK (Debian libxnnpack-dev) and the two libraries it needs at link time,
# pthreadpool (libpthreadpool-dev) and cpuinfo (libcpuinfo-dev).
#
# Why a find module: Debian ships neither a CMake config nor a pkg-config file for XNNPACK or
# pthreadpool, and libcpuinfo-dev's CMake config points at a non-existent
# /usr/lib/lib/x86_64-linux-gnu/libclog.a, so find_package(cpuinfo CONFIG) fails.
#
# Imported targets:
#   XNNPACK::pthreadpool   libpthreadpool (+ Threads::Threads)
#   XNNPACK::cpuinfo       libcpuinfo
#   XNNPACK::XNNPACK       libXNNPACK, its include directory, and the two above
#
# Result variables:
#   XNNPACK_FOUND, XNNPACK_INCLUDE_DIRS, XNNPACK_LIBRARIES
#   XNNPACK_VERSION   the Debian package's version (XNNPACK has no version macro of its own:
#                     it is a git snapshot), e.g. "0.0~git20220216.ae108ef-2"; "unknown" when
#                     dpkg-query does not know the library
#
# Cache variables (point them at a non-system build):
#   XNNPACK_INCLUDE_DIR, XNNPACK_LIBRARY, XNNPACK_PTHREADPOOL_LIBRARY, XNNPACK_CPUINFO_LIBRARY
#
# SPDX-License-Identifier: MIT

include(FindPackageHandleStandardArgs)

find_path(XNNPACK_INCLUDE_DIR NAMES xnnpack.h DOC "Directory containing xnnpack.h")
find_library(XNNPACK_LIBRARY NAMES XNNPACK DOC "The XNNPACK library")
find_library(XNNPACK_PTHREADPOOL_LIBRARY NAMES pthreadpool DOC "The pthreadpool library")
find_library(XNNPACK_CPUINFO_LIBRARY NAMES cpuinfo DOC "The cpuinfo library")
mark_as_advanced(XNNPACK_INCLUDE_DIR XNNPACK_LIBRARY XNNPACK_PTHREADPOOL_LIBRARY
                 XNNPACK_CPUINFO_LIBRARY)

find_package_handle_standard_args(XNNPACK
  REQUIRED_VARS XNNPACK_LIBRARY XNNPACK_INCLUDE_DIR XNNPACK_PTHREADPOOL_LIBRARY
                XNNPACK_CPUINFO_LIBRARY)

if(XNNPACK_FOUND)
  set(XNNPACK_VERSION "unknown")
  find_program(_xnnpack_dpkg_query dpkg-query)
  mark_as_advanced(_xnnpack_dpkg_query)
  if(_xnnpack_dpkg_query)
    execute_process(COMMAND "${_xnnpack_dpkg_query}" -S "${XNNPACK_INCLUDE_DIR}/xnnpack.h"
                    OUTPUT_VARIABLE _xnnpack_owner ERROR_QUIET RESULT_VARIABLE _rc
                    OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(_rc EQUAL 0 AND _xnnpack_owner MATCHES "^([^:]+):")
      execute_process(COMMAND "${_xnnpack_dpkg_query}" -W "-f=\${Version}" "${CMAKE_MATCH_1}"
                      OUTPUT_VARIABLE _xnnpack_version ERROR_QUIET RESULT_VARIABLE _rc
                      OUTPUT_STRIP_TRAILING_WHITESPACE)
      if(_rc EQUAL 0 AND NOT _xnnpack_version STREQUAL "")
        set(XNNPACK_VERSION "${_xnnpack_version}")
      endif()
    endif()
  endif()
  set(XNNPACK_INCLUDE_DIRS "${XNNPACK_INCLUDE_DIR}")
  set(XNNPACK_LIBRARIES "${XNNPACK_LIBRARY}" "${XNNPACK_PTHREADPOOL_LIBRARY}"
      "${XNNPACK_CPUINFO_LIBRARY}")
  if(NOT TARGET Threads::Threads)
    set(THREADS_PREFER_PTHREAD_FLAG ON)
    find_package(Threads REQUIRED)
  endif()
  if(NOT TARGET XNNPACK::pthreadpool)
    add_library(XNNPACK::pthreadpool UNKNOWN IMPORTED)
    set_target_properties(XNNPACK::pthreadpool PROPERTIES
      IMPORTED_LOCATION "${XNNPACK_PTHREADPOOL_LIBRARY}"
      INTERFACE_LINK_LIBRARIES Threads::Threads)
  endif()
  if(NOT TARGET XNNPACK::cpuinfo)
    add_library(XNNPACK::cpuinfo UNKNOWN IMPORTED)
    set_target_properties(XNNPACK::cpuinfo PROPERTIES
      IMPORTED_LOCATION "${XNNPACK_CPUINFO_LIBRARY}")
  endif()
  if(NOT TARGET XNNPACK::XNNPACK)
    add_library(XNNPACK::XNNPACK UNKNOWN IMPORTED)
    set_target_properties(XNNPACK::XNNPACK PROPERTIES
      IMPORTED_LOCATION "${XNNPACK_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${XNNPACK_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES "XNNPACK::pthreadpool;XNNPACK::cpuinfo")
  endif()
endif()
