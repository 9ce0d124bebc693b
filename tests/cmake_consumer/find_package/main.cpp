// Consumer smoke test: the package is usable, and it is the version the build expects.
// SPDX-License-Identifier: MIT
#include <nnmeter.hpp>

#include <iostream>
#include <sstream>

int main() {
  std::ostringstream version;
  version << nnmeter::version_string;
  std::cout << "nnmeter " << version.str() << '\n';
#ifdef NNMETER_EXPECTED_VERSION
  if (version.str() != NNMETER_EXPECTED_VERSION) {
    std::cerr << "expected version " << NNMETER_EXPECTED_VERSION << '\n';
    return 1;
  }
#endif
  return 0;
}
