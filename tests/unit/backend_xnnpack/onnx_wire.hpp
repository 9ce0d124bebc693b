// Test support: a minimal reader of ONNX protobuf files (TensorProto, and the parts of
// ModelProto a one-node test model needs: nodes, attributes, initializers), written against the
// protobuf wire format so the tests need neither protobuf nor libonnx.
// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace nnmeter_test::onnx_wire {

struct tensor {
  std::string name;
  std::vector<std::int64_t> dims;
  std::vector<float> data;
  int data_type = 0;
};

struct attribute {
  std::string name;
  float f = 0;
  std::int64_t i = 0;
  std::string s;
  std::vector<std::int64_t> ints;
  std::vector<float> floats;
};

struct node {
  std::string op_type;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::map<std::string, attribute> attrs;

  std::int64_t i(const std::string& k, std::int64_t fallback) const {
    const auto it = attrs.find(k);
    return it == attrs.end() ? fallback : it->second.i;
  }
  float f(const std::string& k, float fallback) const {
    const auto it = attrs.find(k);
    return it == attrs.end() ? fallback : it->second.f;
  }
  std::vector<std::int64_t> ints(const std::string& k, std::vector<std::int64_t> fallback) const {
    const auto it = attrs.find(k);
    return it == attrs.end() ? fallback : it->second.ints;
  }
  std::string s(const std::string& k, std::string fallback) const {
    const auto it = attrs.find(k);
    return it == attrs.end() ? fallback : it->second.s;
  }
};

struct model {
  std::vector<node> nodes;
  std::map<std::string, tensor> initializers;
};

class reader {
 public:
  reader(const unsigned char* p, const unsigned char* end) : p_(p), end_(end) {}
  bool done() const { return p_ >= end_; }
  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) throw std::runtime_error("protobuf: truncated varint");
      const unsigned char b = *p_++;
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw std::runtime_error("protobuf: varint too long");
  }
  // Reads a key; returns field number and wire type.
  void key(std::uint64_t& field, unsigned& type) {
    const std::uint64_t k = varint();
    field = k >> 3;
    type = static_cast<unsigned>(k & 7);
  }
  reader bytes() {
    const std::uint64_t n = varint();
    if (static_cast<std::uint64_t>(end_ - p_) < n) throw std::runtime_error("protobuf: truncated");
    reader r(p_, p_ + n);
    p_ += n;
    return r;
  }
  std::string string() {
    reader r = bytes();
    return std::string(reinterpret_cast<const char*>(r.p_),
                       static_cast<std::size_t>(r.end_ - r.p_));
  }
  float fixed32() {
    if (end_ - p_ < 4) throw std::runtime_error("protobuf: truncated");
    float v = 0;
    std::memcpy(&v, p_, 4);  // little-endian hosts only
    p_ += 4;
    return v;
  }
  void skip(unsigned type) {
    switch (type) {
      case 0:
        varint();
        break;
      case 1:
        if (end_ - p_ < 8) throw std::runtime_error("protobuf: truncated");
        p_ += 8;
        break;
      case 2:
        bytes();
        break;
      case 5:
        fixed32();
        break;
      default:
        throw std::runtime_error("protobuf: unsupported wire type");
    }
  }
  std::vector<float> floats() {  // packed float payload
    std::vector<float> v;
    while (!done()) v.push_back(fixed32());
    return v;
  }

 private:
  const unsigned char* p_;
  const unsigned char* end_;
};

inline tensor parse_tensor(reader r) {
  tensor t;
  while (!r.done()) {
    std::uint64_t f = 0;
    unsigned w = 0;
    r.key(f, w);
    if (f == 1 && w == 0) {
      t.dims.push_back(static_cast<std::int64_t>(r.varint()));
    } else if (f == 1 && w == 2) {
      reader in = r.bytes();
      while (!in.done()) t.dims.push_back(static_cast<std::int64_t>(in.varint()));
    } else if (f == 2 && w == 0) {
      t.data_type = static_cast<int>(r.varint());
    } else if ((f == 4 || f == 9) && w == 2) {  // float_data (packed) / raw_data
      const std::vector<float> v = r.bytes().floats();
      t.data.insert(t.data.end(), v.begin(), v.end());
    } else if (f == 4 && w == 5) {
      t.data.push_back(r.fixed32());
    } else if (f == 8 && w == 2) {
      t.name = r.string();
    } else {
      r.skip(w);
    }
  }
  return t;
}

inline attribute parse_attribute(reader r) {
  attribute a;
  while (!r.done()) {
    std::uint64_t f = 0;
    unsigned w = 0;
    r.key(f, w);
    if (f == 1 && w == 2)
      a.name = r.string();
    else if (f == 2 && w == 5)
      a.f = r.fixed32();
    else if (f == 3 && w == 0)
      a.i = static_cast<std::int64_t>(r.varint());
    else if (f == 4 && w == 2)
      a.s = r.string();
    else if (f == 7 && w == 2) {
      const std::vector<float> v = r.bytes().floats();
      a.floats.insert(a.floats.end(), v.begin(), v.end());
    } else if (f == 7 && w == 5)
      a.floats.push_back(r.fixed32());
    else if (f == 8 && w == 0)
      a.ints.push_back(static_cast<std::int64_t>(r.varint()));
    else if (f == 8 && w == 2) {
      reader in = r.bytes();
      while (!in.done()) a.ints.push_back(static_cast<std::int64_t>(in.varint()));
    } else
      r.skip(w);
  }
  return a;
}

inline node parse_node(reader r) {
  node n;
  while (!r.done()) {
    std::uint64_t f = 0;
    unsigned w = 0;
    r.key(f, w);
    if (f == 1 && w == 2)
      n.inputs.push_back(r.string());
    else if (f == 2 && w == 2)
      n.outputs.push_back(r.string());
    else if (f == 4 && w == 2)
      n.op_type = r.string();
    else if (f == 5 && w == 2) {
      attribute a = parse_attribute(r.bytes());
      n.attrs[a.name] = a;
    } else
      r.skip(w);
  }
  return n;
}

inline std::vector<unsigned char> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  return std::vector<unsigned char>((std::istreambuf_iterator<char>(f)),
                                    std::istreambuf_iterator<char>());
}

// A float TensorProto file (input_k.pb / output_k.pb), with its element count checked.
inline tensor load_tensor(const std::string& path) {
  const std::vector<unsigned char> b = read_file(path);
  tensor t = parse_tensor(reader(b.data(), b.data() + b.size()));
  if (t.data_type != 1) throw std::runtime_error(path + ": not a float tensor");
  std::size_t n = 1;
  for (std::int64_t d : t.dims) n *= static_cast<std::size_t>(d);
  if (n != t.data.size()) throw std::runtime_error(path + ": element count does not match dims");
  return t;
}

inline model load_model(const std::string& path) {
  const std::vector<unsigned char> b = read_file(path);
  reader r(b.data(), b.data() + b.size());
  model m;
  while (!r.done()) {
    std::uint64_t f = 0;
    unsigned w = 0;
    r.key(f, w);
    if (f != 7 || w != 2) {
      r.skip(w);
      continue;
    }
    reader g = r.bytes();  // GraphProto
    while (!g.done()) {
      std::uint64_t gf = 0;
      unsigned gw = 0;
      g.key(gf, gw);
      if (gf == 1 && gw == 2) {
        m.nodes.push_back(parse_node(g.bytes()));
      } else if (gf == 5 && gw == 2) {
        tensor t = parse_tensor(g.bytes());
        m.initializers[t.name] = t;
      } else {
        g.skip(gw);
      }
    }
  }
  return m;
}

}  // namespace nnmeter_test::onnx_wire
