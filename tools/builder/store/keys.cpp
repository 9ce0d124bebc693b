// nnmeter builder — canonical JSON and content hashes (keys.hpp).
// SPDX-License-Identifier: MIT
#include "builder/store/keys.hpp"

#include <nnmeter/io/json.hpp>

#include <openssl/evp.h>

#include <cmath>

namespace nnmeter::builder {

namespace {

template <class Json>
void check_finite(const Json& j, const std::string& where) {
  if (j.is_number_float() && !std::isfinite(j.template get<double>()))
    throw nnmeter::error("configuration: " + (where.empty() ? std::string("the value") : where) +
                         " is not a finite number, which JSON cannot represent");
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it)
      check_finite(it.value(), where.empty() ? it.key() : where + "." + it.key());
  if (j.is_array())
    for (std::size_t i = 0; i < j.size(); ++i)
      check_finite(j[i], where + "[" + std::to_string(i) + "]");
}

}  // namespace

std::string canonical_json(const nlohmann::json& config) {
  check_finite(config, "");
  return config.dump();  // nlohmann::json keeps object keys in a std::map: sorted
}

std::string canonical_json(const nlohmann::ordered_json& config) {
  check_finite(config, "");
  return nlohmann::json::parse(config.dump()).dump();
}

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1)
    throw nnmeter::error("sha256: OpenSSL's EVP_Digest failed");
  static const char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * size);
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(hex[digest[i] >> 4]);
    out.push_back(hex[digest[i] & 15]);
  }
  return out;
}

std::string graph_hash(const nnmeter::graph& g) {
  return "sha256:" + sha256_hex(nnmeter::io::write_nnmeter_ir(g, -1));
}

}  // namespace nnmeter::builder
