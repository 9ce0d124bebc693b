// nnmeter — predict the latency of a DNN on an edge device without running it there.
// The umbrella header of the dependency-free core (standard library only).
// SPDX-License-Identifier: MIT
#ifndef NNMETER_HPP
#define NNMETER_HPP

#include <nnmeter/version.hpp>
#include <nnmeter/config.hpp>
#include <nnmeter/error.hpp>

#include <nnmeter/ir/op_kind.hpp>
#include <nnmeter/ir/dtype.hpp>
#include <nnmeter/ir/tensor_shape.hpp>
#include <nnmeter/ir/attributes.hpp>
#include <nnmeter/ir/graph.hpp>
#include <nnmeter/ir/graph_traits.hpp>
#include <nnmeter/ir/graph_concepts.hpp>
#include <nnmeter/ir/shape_rules.hpp>
#include <nnmeter/ir/graph_builder.hpp>
#include <nnmeter/ir/validate.hpp>
#include <nnmeter/ir/algorithm.hpp>

#include <nnmeter/fusion/pattern.hpp>
#include <nnmeter/fusion/rules.hpp>
#include <nnmeter/fusion/detect.hpp>

#include <nnmeter/kernels/kernel_kind.hpp>
#include <nnmeter/kernels/kernel.hpp>
#include <nnmeter/kernels/cost.hpp>
#include <nnmeter/kernels/features.hpp>

#include <nnmeter/forest/forest_view.hpp>
#include <nnmeter/forest/forest.hpp>
#include <nnmeter/forest/evaluate.hpp>
#include <nnmeter/forest/evaluate_batch.hpp>
#include <nnmeter/forest/forest_blob.hpp>

#include <nnmeter/predictor/fallback.hpp>
#include <nnmeter/predictor/predictor.hpp>

#endif  // NNMETER_HPP
