// nnmeter builder — files written atomically (temporary file beside them + rename): the
// registry, meta files and generated headers. Target nnmeter_builder_package.
// SPDX-License-Identifier: MIT
#pragma once

#include <filesystem>
#include <string_view>

namespace nnmeter::builder {

/// Writes `text` to `file` through a temporary file in the same folder and a rename, so that
/// `file` is never seen half-written; the folder is created. Throws nnmeter::error naming
/// `file` (and why) when it cannot be written; `file` is then unchanged and the temporary file
/// removed.
void write_file_atomically(const std::filesystem::path& file, std::string_view text);

}  // namespace nnmeter::builder
