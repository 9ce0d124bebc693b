# Runs one example and compares its stdout with the .expected file.
#   cmake -DEXECUTABLE=<exe> -DEXPECTED=<file.expected> -DACTUAL=<where to keep the output>
#         -P nnmeterRunExample.cmake
# Fails when the program exits non-zero or its stdout differs from EXPECTED (CRLF read as LF);
# on a mismatch it prints a unified diff (or, without `diff`, the first differing line) and
# the command that accepts the new output. A missing EXPECTED file means: exit status only.
# SPDX-License-Identifier: MIT

cmake_minimum_required(VERSION 3.16)

execute_process(COMMAND "${EXECUTABLE}"
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE actual
  ERROR_VARIABLE errors)
string(REPLACE "\r\n" "\n" actual "${actual}")
file(WRITE "${ACTUAL}" "${actual}")

if(NOT rc EQUAL 0)
  message("--- stdout:\n${actual}\n--- stderr:\n${errors}")
  message(FATAL_ERROR "${EXECUTABLE} exited with ${rc}")
endif()
if(errors)
  message("--- stderr:\n${errors}")
endif()
if(NOT EXISTS "${EXPECTED}")
  message("no ${EXPECTED}: checked the exit status only\n--- stdout:\n${actual}")
  return()
endif()

file(READ "${EXPECTED}" expected)
string(REPLACE "\r\n" "\n" expected "${expected}")
if(actual STREQUAL expected)
  message("stdout matches ${EXPECTED}")
  return()
endif()

find_program(DIFF_EXECUTABLE diff)
if(DIFF_EXECUTABLE)
  execute_process(COMMAND "${DIFF_EXECUTABLE}" -u "${EXPECTED}" "${ACTUAL}"
                  OUTPUT_VARIABLE diff_text)
else()
  # Portable fallback: report the first line that differs.
  string(REPLACE ";" "\\;" e "${expected}")
  string(REPLACE ";" "\\;" a "${actual}")
  string(REPLACE "\n" ";" e "${e}")
  string(REPLACE "\n" ";" a "${a}")
  list(LENGTH e ne)
  list(LENGTH a na)
  set(diff_text "")
  set(i 0)
  while(diff_text STREQUAL "")
    if(i GREATER_EQUAL ne OR i GREATER_EQUAL na)
      set(diff_text "outputs differ in length: expected ${ne} lines, got ${na}\n")
      break()
    endif()
    list(GET e ${i} le)
    list(GET a ${i} la)
    if(NOT le STREQUAL la)
      math(EXPR line "${i} + 1")
      set(diff_text "first difference at line ${line}:\n- ${le}\n+ ${la}\n")
    endif()
    math(EXPR i "${i} + 1")
  endwhile()
endif()
# Plain message() prints verbatim; FATAL_ERROR would re-wrap the diff.
message("stdout differs from ${EXPECTED}:\n${diff_text}\n"
        "If the new output is right: cp ${ACTUAL} ${EXPECTED}")
message(FATAL_ERROR "example output mismatch")
