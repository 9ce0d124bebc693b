// doctest's runner, compiled once (OBJECT library nnmeter_test_main) for every test executable.
// SPDX-License-Identifier: MIT
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
