// nnmeter builder — files written atomically (atomic_file.hpp).
// SPDX-License-Identifier: MIT
#include "builder/package/atomic_file.hpp"

#include <nnmeter/error.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

namespace nnmeter::builder {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Writes all of `text` to `fd`, then flushes it to the disk; the errno of the failure, or 0.
int write_all(int fd, std::string_view text) {
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return ::fsync(fd) == 0 ? 0 : errno;
}

}  // namespace

void write_file_atomically(const fs::path& file, std::string_view text) {
  std::error_code ec;
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  fs::create_directories(dir, ec);
  if (ec)
    throw nnmeter::error(file.string() + ": cannot create its folder " + dir.string() + " (" +
                         ec.message() + ")");
  if (fs::is_directory(file, ec))
    throw nnmeter::error(file.string() + ": is a directory, not a file");
  // One temporary name per process: two writers of the same file do not share one. The data
  // reaches the disk (fsync) before the rename makes it the file, so that after a crash the
  // file is the old one or the new one, never a truncated new one.
  const fs::path tmp = dir / ("." + file.filename().string() + ".tmp" + std::to_string(::getpid()));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw nnmeter::error(file.string() + ": cannot create the file (" + errno_text(errno) + ")");
  const int err = write_all(fd, text);
  const int close_err = ::close(fd) == 0 ? 0 : errno;
  if (err != 0 || close_err != 0) {
    fs::remove(tmp, ec);
    throw nnmeter::error(file.string() + ": cannot write the file (" +
                         errno_text(err != 0 ? err : close_err) + "); it is unchanged");
  }
  fs::rename(tmp, file, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(tmp, ec);
    throw nnmeter::error(file.string() + ": cannot replace the file (" + why + ")");
  }
}

}  // namespace nnmeter::builder
