// nnmeter backends — the `xnnpack` backend: whole graphs on this CPU through XNNPACK.
// SPDX-License-Identifier: MIT
#pragma once

#include "backend.hpp"

#include <memory>

namespace nnmeter::backends {

/// The XNNPACK backend (registry key "xnnpack"): prepare() builds an
/// xnnpack::executor for the graph (weights and inputs generated from protocol.seed), one
/// thread; the protocol engine times executor::invoke(). device() is host_cpu_description().
/// A protocol with threads != 1 is refused (backend_error): the executor runs one thread.
std::unique_ptr<backend> make_xnnpack_backend();

/// The xnnpack backend's reference kernel for normalise_by_reference: the noise study's
/// conv 3x3, 64 -> 64 channels, on a 1x56x56x64 input (SAME padding, bias).
nnmeter::graph xnnpack_reference_graph();

}  // namespace nnmeter::backends
