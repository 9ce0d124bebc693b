// nnmeter builder — the kernel sampler: kernel configurations and their graphs, the feature
// function shared by training and prediction, nn-Meter's prior tables and its prior and
// fine-grained samplers, seeded (docs/builder.md, "Kernel sampler"). Target
// nnmeter_builder_sampler.
// SPDX-License-Identifier: MIT
#pragma once

#include "builder/sampler/kernel_config.hpp"  // kernel_config, kernel_graph, training_features
#include "builder/sampler/priors.hpp"         // prior_tables, nnmeter_priors, extract_priors
#include "builder/sampler/sampling.hpp"       // sample_prior, sample_finegrained
