// nnmeter — user switches and compiler detection. See docs/configuration.md.
// SPDX-License-Identifier: MIT
#pragma once

#include <nnmeter/version.hpp>

// NNMETER_HAS_CONCEPTS: 1 when the language has C++20 concepts. The core's concepts are plain
// `concept X = trait_v<X>` definitions and need no <concepts> or <ranges> header, so clang 14
// with libstdc++ 12 (whose <ranges> is broken) can use them too. Define it to 0 to opt out.
#ifndef NNMETER_HAS_CONCEPTS
#if defined(__cpp_concepts) && __cpp_concepts >= 201907L
#define NNMETER_HAS_CONCEPTS 1
#else
#define NNMETER_HAS_CONCEPTS 0
#endif
#endif

// NNMETER_REQUIRES(x): a requires-clause in C++20, nothing in C++17 (the C++17 path checks the
// same property with static_assert inside the function).
#if NNMETER_HAS_CONCEPTS
#define NNMETER_REQUIRES(...) requires(__VA_ARGS__)
#else
#define NNMETER_REQUIRES(...)
#endif
