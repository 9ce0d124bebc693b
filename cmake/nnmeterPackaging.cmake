# Install rules, package config files and build-tree export for nnmeter.
# SPDX-License-Identifier: MIT
#
# Installed layout (architecture independent, hence under DATADIR):
#   ${CMAKE_INSTALL_INCLUDEDIR}/nnmeter.hpp, nnmeter/...
#   ${CMAKE_INSTALL_DATADIR}/cmake/nnmeter/nnmeterConfig.cmake (+ Version, Targets, JsonTargets)
#   ${CMAKE_INSTALL_DATADIR}/pkgconfig/nnmeter.pc
# `find_package(nnmeter COMPONENTS json)` loads nnmeter::json and find_dependency(nlohmann_json);
# without the component, nlohmann_json is never looked for. Likewise `COMPONENTS onnx` loads
# nnmeter::onnx after find_dependency(Protobuf) and find_dependency(ONNX).

include_guard(GLOBAL)

set(NNMETER_CONFIG_INSTALL_DIR "${CMAKE_INSTALL_DATADIR}/cmake/nnmeter" CACHE STRING
    "Install directory for nnmeter's CMake package files, relative to the prefix")
set(NNMETER_PKGCONFIG_INSTALL_DIR "${CMAKE_INSTALL_DATADIR}/pkgconfig" CACHE STRING
    "Install directory for nnmeter.pc, relative to the prefix")
mark_as_advanced(NNMETER_CONFIG_INSTALL_DIR NNMETER_PKGCONFIG_INSTALL_DIR)

# Below 1.0 a minor bump may break the API; afterwards switch to SameMajorVersion.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_nnmeter_compat SameMinorVersion)
else()
  set(_nnmeter_compat SameMajorVersion)
endif()

set(_nnmeter_gen_dir "${PROJECT_BINARY_DIR}/nnmeter-package")

# ---- build-tree package: nnmeter_DIR=<build dir> works without installing --------------------
if(NOT TARGET nnmeter_json)
  file(REMOVE "${PROJECT_BINARY_DIR}/nnmeterJsonTargets.cmake")
endif()
if(NOT TARGET nnmeter_onnx)
  file(REMOVE "${PROJECT_BINARY_DIR}/nnmeterOnnxTargets.cmake")
endif()
export(TARGETS nnmeter NAMESPACE nnmeter:: FILE "${PROJECT_BINARY_DIR}/nnmeterTargets.cmake")
if(TARGET nnmeter_json)
  export(TARGETS nnmeter_json NAMESPACE nnmeter::
         FILE "${PROJECT_BINARY_DIR}/nnmeterJsonTargets.cmake")
endif()
if(TARGET nnmeter_onnx)
  export(TARGETS nnmeter_onnx NAMESPACE nnmeter::
         FILE "${PROJECT_BINARY_DIR}/nnmeterOnnxTargets.cmake")
endif()
configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/nnmeterConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/nnmeterConfig.cmake"
  INSTALL_DESTINATION "${PROJECT_BINARY_DIR}"
  INSTALL_PREFIX "${PROJECT_BINARY_DIR}"
  NO_SET_AND_CHECK_MACRO)
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/nnmeterConfigVersion.cmake"
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY ${_nnmeter_compat}
  ARCH_INDEPENDENT)

if(NOT NNMETER_INSTALL)
  return()
endif()

# ---- install ---------------------------------------------------------------------------------
install(TARGETS nnmeter EXPORT nnmeterTargets)
install(EXPORT nnmeterTargets
  NAMESPACE nnmeter::
  DESTINATION "${NNMETER_CONFIG_INSTALL_DIR}")
if(TARGET nnmeter_json)
  install(TARGETS nnmeter_json EXPORT nnmeterJsonTargets)
  install(EXPORT nnmeterJsonTargets
    NAMESPACE nnmeter::
    DESTINATION "${NNMETER_CONFIG_INSTALL_DIR}")
endif()
if(TARGET nnmeter_onnx)
  install(TARGETS nnmeter_onnx EXPORT nnmeterOnnxTargets)
  install(EXPORT nnmeterOnnxTargets
    NAMESPACE nnmeter::
    DESTINATION "${NNMETER_CONFIG_INSTALL_DIR}")
endif()

if(NNMETER_USE_SINGLE_HEADER)
  # The installed <nnmeter.hpp> is the amalgamation; the support modules still come from include/.
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/"
    DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
    FILES_MATCHING PATTERN "*.hpp"
    REGEX "/include/nnmeter\\.hpp$" EXCLUDE)
  install(FILES "${NNMETER_SINGLE_HEADER_FILE}" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/"
    DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
    FILES_MATCHING PATTERN "*.hpp")
endif()

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/nnmeterConfig.cmake.in"
  "${_nnmeter_gen_dir}/nnmeterConfig.cmake"
  INSTALL_DESTINATION "${NNMETER_CONFIG_INSTALL_DIR}"
  NO_SET_AND_CHECK_MACRO)
write_basic_package_version_file(
  "${_nnmeter_gen_dir}/nnmeterConfigVersion.cmake"
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY ${_nnmeter_compat}
  ARCH_INDEPENDENT)
install(FILES
  "${_nnmeter_gen_dir}/nnmeterConfig.cmake"
  "${_nnmeter_gen_dir}/nnmeterConfigVersion.cmake"
  DESTINATION "${NNMETER_CONFIG_INSTALL_DIR}")

# pkg-config: relocatable through ${pcfiledir}, so `cmake --install --prefix X` stays correct.
if(IS_ABSOLUTE "${NNMETER_PKGCONFIG_INSTALL_DIR}")
  message(FATAL_ERROR "NNMETER_PKGCONFIG_INSTALL_DIR must be relative to the install prefix")
endif()
file(RELATIVE_PATH NNMETER_PC_PREFIX_FROM_PCFILEDIR
     "/prefix/${NNMETER_PKGCONFIG_INSTALL_DIR}" "/prefix")
string(REGEX REPLACE "/$" "" NNMETER_PC_PREFIX_FROM_PCFILEDIR "${NNMETER_PC_PREFIX_FROM_PCFILEDIR}")
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(NNMETER_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(NNMETER_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/nnmeter.pc.in" "${_nnmeter_gen_dir}/nnmeter.pc" @ONLY)
install(FILES "${_nnmeter_gen_dir}/nnmeter.pc" DESTINATION "${NNMETER_PKGCONFIG_INSTALL_DIR}")
