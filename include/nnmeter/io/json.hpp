// nnmeter — JSON support module: nn-Meter IR graphs, fusion-rule files, kernel lists, XGBoost
// forests and predictor packages. Opt-in: needs nlohmann_json; link nnmeter::json.
// SPDX-License-Identifier: MIT
#pragma once

#if !__has_include(<nlohmann/json.hpp>)
#error "nnmeter/io/json.hpp needs nlohmann_json: link nnmeter::json (NNMETER_WITH_JSON)"
#endif

#include <nnmeter/io/json_common.hpp>
#include <nnmeter/io/json_ir.hpp>
#include <nnmeter/io/json_kernels.hpp>
#include <nnmeter/io/json_rules.hpp>
#include <nnmeter/io/json_predictor.hpp>
#include <nnmeter/io/json_xgboost.hpp>
