# FindXGBoost
# -----------
# Finds the XGBoost C API: the header <xgboost/c_api.h> and the library libxgboost.
#
# Why a find module: Debian's libxgboost-dev ships an xgboost-config.cmake whose import file also
# declares xgboost::runxgboost at /usr/bin/xgboost, a program from the separate (usually not
# installed) `xgboost` package, so find_package(xgboost CONFIG) fails with a missing-file error.
# This module looks only for what the C API needs.
#
# Imported target:
#   XGBoost::xgboost       the library, with its include directory as usage requirement
#
# Result variables:
#   XGBoost_FOUND          TRUE when both the header and the library were found
#   XGBoost_INCLUDE_DIRS   directory containing xgboost/c_api.h
#   XGBoost_LIBRARIES      the library file
#   XGBoost_VERSION        e.g. 1.7.4, read from <xgboost/version_config.h> when it exists
#
# Cache variables (set them to point at a non-system build):
#   XGBoost_INCLUDE_DIR, XGBoost_LIBRARY
# XGBoost_ROOT (variable or environment) is honoured as a search prefix, as for any find module.
#
# SPDX-License-Identifier: MIT

include(FindPackageHandleStandardArgs)

find_path(XGBoost_INCLUDE_DIR
  NAMES xgboost/c_api.h
  DOC "Directory containing xgboost/c_api.h")
find_library(XGBoost_LIBRARY
  NAMES xgboost
  DOC "The XGBoost library (libxgboost)")
mark_as_advanced(XGBoost_INCLUDE_DIR XGBoost_LIBRARY)

# The library's own version string is not reliable (Debian's libxgboost.so.1.6.0 reports 1.7.4),
# so take the header's.
unset(XGBoost_VERSION)
if(XGBoost_INCLUDE_DIR AND EXISTS "${XGBoost_INCLUDE_DIR}/xgboost/version_config.h")
  file(STRINGS "${XGBoost_INCLUDE_DIR}/xgboost/version_config.h" _xgboost_version_lines
       REGEX "^#define[ \t]+XGBOOST_VER_(MAJOR|MINOR|PATCH)[ \t]+[0-9]+")
  foreach(_part MAJOR MINOR PATCH)
    set(_xgboost_${_part} "")
    foreach(_line IN LISTS _xgboost_version_lines)
      if(_line MATCHES "^#define[ \t]+XGBOOST_VER_${_part}[ \t]+([0-9]+)")
        set(_xgboost_${_part} "${CMAKE_MATCH_1}")
      endif()
    endforeach()
  endforeach()
  if(NOT _xgboost_MAJOR STREQUAL "" AND NOT _xgboost_MINOR STREQUAL ""
     AND NOT _xgboost_PATCH STREQUAL "")
    set(XGBoost_VERSION "${_xgboost_MAJOR}.${_xgboost_MINOR}.${_xgboost_PATCH}")
  endif()
  unset(_xgboost_version_lines)
  unset(_xgboost_MAJOR)
  unset(_xgboost_MINOR)
  unset(_xgboost_PATCH)
endif()

find_package_handle_standard_args(XGBoost
  REQUIRED_VARS XGBoost_LIBRARY XGBoost_INCLUDE_DIR
  VERSION_VAR XGBoost_VERSION)

if(XGBoost_FOUND)
  set(XGBoost_INCLUDE_DIRS "${XGBoost_INCLUDE_DIR}")
  set(XGBoost_LIBRARIES "${XGBoost_LIBRARY}")
  if(NOT TARGET XGBoost::xgboost)
    add_library(XGBoost::xgboost UNKNOWN IMPORTED)
    set_target_properties(XGBoost::xgboost PROPERTIES
      IMPORTED_LOCATION "${XGBoost_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${XGBoost_INCLUDE_DIR}")
  endif()
endif()
