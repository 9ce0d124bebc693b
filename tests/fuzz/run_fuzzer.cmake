# ctest fuzz.onnx_import_short: a bounded libFuzzer run on a fresh copy of the seed corpus, so
# the source tree is never written (libFuzzer adds the inputs it finds to its first corpus
# directory).
#   cmake -DFUZZER=<libFuzzer binary> -DSEEDS=<seed dir> -DWORK_DIR=<scratch dir>
#         -DFUZZ_ARGS=<libFuzzer flags, ;-list> -P run_fuzzer.cmake
# Crash, leak and timeout inputs land in <WORK_DIR>/artifacts/; the test fails when the fuzzer
# exits non-zero.
# SPDX-License-Identifier: MIT
cmake_minimum_required(VERSION 3.16)

foreach(_v FUZZER SEEDS WORK_DIR)
  if(NOT DEFINED ${_v} OR "${${_v}}" STREQUAL "")
    message(FATAL_ERROR "run_fuzzer.cmake: -D${_v}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE "${WORK_DIR}/corpus")
file(MAKE_DIRECTORY "${WORK_DIR}/corpus" "${WORK_DIR}/artifacts")
file(GLOB _seeds "${SEEDS}/*")
file(COPY ${_seeds} DESTINATION "${WORK_DIR}/corpus")

execute_process(
  COMMAND "${FUZZER}" ${FUZZ_ARGS} "-artifact_prefix=${WORK_DIR}/artifacts/" "${WORK_DIR}/corpus"
  WORKING_DIRECTORY "${WORK_DIR}"
  RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "fuzzer exited with ${_rc}; reproducers in ${WORK_DIR}/artifacts/ "
                      "(replay one with: ${FUZZER} <file>)")
endif()
