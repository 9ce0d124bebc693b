// Replay driver for compilers without libFuzzer (gcc): runs every file named on the command line,
// and every regular file of every directory named there (sorted by path), once through
// LLVMFuzzerTestOneInput. Exit status 0 when all ran (the target aborts on a finding), 1 when a
// file cannot be read or nothing was given.
// SPDX-License-Identifier: MIT
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    const fs::path p(argv[i]);
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> in_dir;
      for (const fs::directory_entry& e : fs::directory_iterator(p, ec))
        if (e.is_regular_file(ec)) in_dir.push_back(e.path());
      if (ec) {
        std::fprintf(stderr, "standalone_main: cannot list %s: %s\n", argv[i],
                     ec.message().c_str());
        return 1;
      }
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else {
      files.push_back(p);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s <file or directory>...\n", argc > 0 ? argv[0] : "replay");
    return 1;
  }
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "standalone_main: cannot open %s\n", f.string().c_str());
      return 1;
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) {
      std::fprintf(stderr, "standalone_main: cannot read %s\n", f.string().c_str());
      return 1;
    }
    std::printf("%s (%zu bytes)\n", f.string().c_str(), bytes.size());
    std::fflush(stdout);
    // data() of an empty string is a valid pointer; libFuzzer passes a non-null one too.
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("standalone_main: %zu input(s) ran\n", files.size());
  return 0;
}
