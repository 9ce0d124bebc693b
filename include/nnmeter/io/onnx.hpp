// nnmeter — ONNX support module: import ONNX models as nnmeter graphs (onnx_import.hpp) and
// write nnmeter graphs as ONNX models (onnx_write.hpp).
// Opt-in: needs libonnx + protobuf (Debian libonnx-dev, libprotobuf-dev); link nnmeter::onnx.
// See docs/onnx.md.
// SPDX-License-Identifier: MIT
#pragma once

#if !__has_include(<onnx/onnx_pb.h>)
#error "nnmeter/io/onnx.hpp needs the ONNX protobuf headers: link nnmeter::onnx (NNMETER_WITH_ONNX)"
#endif

#include <nnmeter/io/onnx_fold.hpp>
#include <nnmeter/io/onnx_import.hpp>
#include <nnmeter/io/onnx_write.hpp>
