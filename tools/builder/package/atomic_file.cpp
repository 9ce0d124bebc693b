// nnmeter builder — files written atomically (atomic_file.hpp).
// SPDX-License-Identifier: MIT
#include "builder/package/atomic_file.hpp"

#include <nnmeter/error.hpp>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <system_error>

namespace nnmeter::builder {

namespace fs = std::filesystem;

void write_file_atomically(const fs::path& file, std::string_view text) {
  std::error_code ec;
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  fs::create_directories(dir, ec);
  if (ec)
    throw nnmeter::error(file.string() + ": cannot create its folder " + dir.string() + " (" +
                         ec.message() + ")");
  if (fs::is_directory(file, ec))
    throw nnmeter::error(file.string() + ": is a directory, not a file");
  // One temporary name per process: two writers of the same file do not share one.
  const fs::path tmp = dir / ("." + file.filename().string() + ".tmp" + std::to_string(::getpid()));
  {
    errno = 0;
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      const int err = errno;
      throw nnmeter::error(
          file.string() + ": cannot create the file" +
          (err != 0 ? " (" + std::string(std::strerror(err)) + ")" : std::string()));
    }
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) {
      fs::remove(tmp, ec);
      throw nnmeter::error(file.string() + ": cannot write the file (disk full?); it is unchanged");
    }
  }
  fs::rename(tmp, file, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(tmp, ec);
    throw nnmeter::error(file.string() + ": cannot replace the file (" + why + ")");
  }
}

}  // namespace nnmeter::builder
