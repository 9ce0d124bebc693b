// nnmeter builder — prior and fine-grained sampling (sampling.hpp).
// SPDX-License-Identifier: MIT
#include "builder/sampler/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>

namespace nnmeter::builder {

using nnmeter::kernel_kind;
using dim = std::int64_t;
using column = std::vector<dim>;

std::uint64_t sample_rng::below(std::uint64_t n) {
  if (n <= 1) return 0;
  // Largest multiple of n that fits: draws at or above it are rejected (no modulo bias).
  const std::uint64_t limit =
      std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
  for (;;) {
    const std::uint64_t v = engine_();
    if (v < limit) return v % n;
  }
}

std::uint64_t derive_seed(std::uint64_t seed, std::string_view purpose) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
  for (char c : purpose) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  std::uint64_t z = seed ^ h;  // splitmix64 finaliser
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

inverse_cdf::inverse_cdf(const std::vector<std::int64_t>& data, int bins) {
  if (data.empty()) throw nnmeter::error("inverse CDF: no data (an empty prior column)");
  if (bins < 1) throw nnmeter::error("inverse CDF: bins must be >= 1");
  const auto [mn_it, mx_it] = std::minmax_element(data.begin(), data.end());
  double lo = static_cast<double>(*mn_it);
  double hi = static_cast<double>(*mx_it);
  if (lo == hi) {  // numpy.histogram's range for a constant column
    lo -= 0.5;
    hi += 0.5;
  }
  const auto nb = static_cast<std::size_t>(bins);
  // numpy.linspace: lo + i * step, the last edge exactly hi.
  const double step = (hi - lo) / static_cast<double>(nb);
  edges_.resize(nb + 1);
  for (std::size_t i = 0; i < nb; ++i) edges_[i] = lo + static_cast<double>(i) * step;
  edges_[nb] = hi;
  std::vector<double> counts(nb, 0.0);
  for (std::int64_t v : data) {
    const auto x = static_cast<double>(v);
    // numpy's bin of x: floor((x - lo) / (hi - lo) * bins), corrected against the edges;
    // the last bin is closed on the right.
    auto b =
        static_cast<std::ptrdiff_t>(std::floor((x - lo) / (hi - lo) * static_cast<double>(nb)));
    b = std::clamp<std::ptrdiff_t>(b, 0, static_cast<std::ptrdiff_t>(nb) - 1);
    auto bi = static_cast<std::size_t>(b);
    if (bi > 0 && x < edges_[bi]) --bi;
    if (bi + 1 < nb && x >= edges_[bi + 1]) ++bi;
    counts[bi] += 1.0;
  }
  // cum_values[1:] = cumsum(hist * diff(edges)) with hist = counts / diff / n: counts / n.
  const auto n = static_cast<double>(data.size());
  cdf_.assign(nb + 1, 0.0);
  for (std::size_t i = 0; i < nb; ++i) cdf_[i + 1] = cdf_[i] + counts[i] / n;
}

double inverse_cdf::operator()(double u) const {
  // First edge whose CDF exceeds u: u lies in [cdf[i], cdf[i+1]) with cdf[i] < cdf[i+1]
  // (empty bins are flat and never selected).
  const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  if (it == cdf_.begin()) return edges_.front();
  if (it == cdf_.end()) return edges_.back();  // u at or above the rounded total
  const auto i = static_cast<std::size_t>(it - cdf_.begin()) - 1;
  const double t = (u - cdf_[i]) / (cdf_[i + 1] - cdf_[i]);
  return edges_[i] + t * (edges_[i + 1] - edges_[i]);
}

std::int64_t inverse_cdf::draw(sample_rng& rng) const {
  return static_cast<std::int64_t>(std::floor((*this)(rng.uniform())));
}

std::vector<std::int64_t> inverse_cdf::draws(sample_rng& rng, std::size_t n) const {
  std::vector<std::int64_t> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(draw(rng));
  return out;
}

std::int64_t snap(std::int64_t v, const std::vector<std::int64_t>& allowed) {
  if (allowed.empty()) throw nnmeter::error("snap: no allowed values");
  std::int64_t best = allowed.front();
  std::int64_t best_d = v > best ? v - best : best - v;
  for (std::int64_t a : allowed) {
    const std::int64_t d = v > a ? v - a : a - v;
    if (d < best_d) {  // strictly nearer: a tie keeps the earlier entry
      best = a;
      best_d = d;
    }
  }
  return best;
}

const char* to_string(sampler_kind s) noexcept {
  switch (s) {
    case sampler_kind::conv:
      return "conv";
    case sampler_kind::dwconv:
      return "dwconv";
    case sampler_kind::fc:
      return "fc";
    case sampler_kind::pooling:
      return "pooling";
    case sampler_kind::hw_cin:
      return "hw_cin";
    case sampler_kind::cin_even:
      return "cin_even";
    case sampler_kind::global_avgpool:
      return "global_avgpool";
    case sampler_kind::concat:
      return "concat";
    case sampler_kind::mul:
      return "mul";
    case sampler_kind::pad:
      return "pad";
    case sampler_kind::resize:
      return "resize";
    case sampler_kind::softmax:
      return "softmax";
    case sampler_kind::matmul:
      return "matmul";
  }
  return "invalid";
}

sampler_kind sampler_for(kernel_kind kind) {
  switch (kind) {
    case kernel_kind::conv_bn_relu:
      return sampler_kind::conv;
    case kernel_kind::dwconv_bn_relu:
      return sampler_kind::dwconv;
    case kernel_kind::fc:
      return sampler_kind::fc;
    case kernel_kind::maxpool:
    case kernel_kind::avgpool:
      return sampler_kind::pooling;
    case kernel_kind::split:
    case kernel_kind::channelshuffle:
    case kernel_kind::se:
      return sampler_kind::cin_even;
    case kernel_kind::global_avgpool:
      return sampler_kind::global_avgpool;
    case kernel_kind::concat:
      return sampler_kind::concat;
    case kernel_kind::hswish:
    case kernel_kind::relu:
    case kernel_kind::add:
    case kernel_kind::addrelu:
    case kernel_kind::bn:
    case kernel_kind::bnrelu:
    case kernel_kind::sigmoid:
    case kernel_kind::hardsigmoid:
    case kernel_kind::data_movement:
      return sampler_kind::hw_cin;
    case kernel_kind::mul:
      return sampler_kind::mul;
    case kernel_kind::pad:
      return sampler_kind::pad;
    case kernel_kind::resize:
      return sampler_kind::resize;
    case kernel_kind::softmax:
      return sampler_kind::softmax;
    case kernel_kind::matmul:
      return sampler_kind::matmul;
    default:
      throw nnmeter::unsupported_error("kernel kind '" + std::string(nnmeter::to_string(kind)) +
                                       "' has no sampler");
  }
}

bool within_caps(const kernel_config& c, const sampling_caps& caps) {
  if (caps.accept && !caps.accept(c)) return false;
  if (caps.max_mflops <= 0 && caps.max_mbytes <= 0) return true;
  const kernel_cost k = cost_of(c);
  return (caps.max_mflops <= 0 || k.mflops <= caps.max_mflops) &&
         (caps.max_mbytes <= 0 || k.mbytes <= caps.max_mbytes);
}

namespace {

// Allowed values of nn-Meter's samplers.
const column hw_conv{1, 3, 7, 8, 13, 14, 27, 28, 32, 56, 112, 224};
const column hw_common{1, 3, 7, 14, 28, 56, 112, 224};
const column hw_pool{14, 28, 56, 112, 224};
const column hw_concat{7, 14, 28, 56};
const column hw_resize{7, 14, 28, 56, 112};
const column hw_tokens{1, 7, 14, 28};
const column ks_conv{1, 3, 5, 7};
const column s_conv{1, 2, 4};
const column s_dw{1, 2};
const column ks_pool{2, 3};
const column s_pool{1, 2};

std::string kind_name(kernel_kind k) { return std::string(nnmeter::to_string(k)); }

template <class Row, class F>
column column_of(const std::vector<Row>& rows, F f, const char* table, const char* name) {
  if (rows.empty())
    throw nnmeter::error(std::string("kernel sampler: prior table ") + table +
                         " has no rows (column " + name + ")");
  column c;
  c.reserve(rows.size());
  for (const Row& r : rows) c.push_back(f(r));
  return c;
}

// The prior columns every sampler reads.
struct prior_columns {
  const prior_tables& t;
  column conv_hw() const {
    return column_of(
        t.conv, [](const conv_prior& r) { return r.input_h; }, "conv.csv", "input_h");
  }
  column conv_cin() const {
    return column_of(
        t.conv, [](const conv_prior& r) { return r.cin; }, "conv.csv", "cin");
  }
  column conv_cout() const {
    return column_of(
        t.conv, [](const conv_prior& r) { return r.cout; }, "conv.csv", "cout");
  }
  column conv_ks() const {
    return column_of(
        t.conv, [](const conv_prior& r) { return r.ks; }, "conv.csv", "ks");
  }
  column conv_stride() const {
    return column_of(
        t.conv, [](const conv_prior& r) { return r.stride; }, "conv.csv", "stride");
  }
  column dw_hw() const {
    return column_of(
        t.dwconv, [](const conv_prior& r) { return r.input_h; }, "dwconv.csv", "input_h");
  }
  column dw_cin() const {
    return column_of(
        t.dwconv, [](const conv_prior& r) { return r.cin; }, "dwconv.csv", "cin");
  }
  column dw_ks() const {
    return column_of(
        t.dwconv, [](const conv_prior& r) { return r.ks; }, "dwconv.csv", "ks");
  }
  column dw_stride() const {
    return column_of(
        t.dwconv, [](const conv_prior& r) { return r.stride; }, "dwconv.csv", "stride");
  }
  column fc_cin() const {
    return column_of(
        t.fc, [](const fc_prior& r) { return r.cin; }, "fc.csv", "cin");
  }
  column fc_cout() const {
    return column_of(
        t.fc, [](const fc_prior& r) { return r.cout; }, "fc.csv", "cout");
  }
  column pool_hw() const {
    return column_of(
        t.pooling, [](const pool_prior& r) { return r.input_h; }, "pooling.csv", "input_h");
  }
  column pool_cin() const {
    return column_of(
        t.pooling, [](const pool_prior& r) { return r.cin; }, "pooling.csv", "cin");
  }
  column pool_ks() const {
    return column_of(
        t.pooling, [](const pool_prior& r) { return r.ks; }, "pooling.csv", "ks");
  }
  column pool_stride() const {
    return column_of(
        t.pooling, [](const pool_prior& r) { return r.stride; }, "pooling.csv", "stride");
  }
};

column snapped(column v, const column& allowed) {
  for (dim& x : v) x = snap(x, allowed);
  return v;
}

// nn-Meter's "frequent values" tail: for each (value, share), floor(share * r) copies.
void append_shares(column& v, std::size_t r, std::initializer_list<std::pair<dim, double>> shares) {
  for (const auto& [value, share] : shares) {
    const auto k = static_cast<std::size_t>(std::floor(share * static_cast<double>(r)));
    v.insert(v.end(), k, value);
  }
}

// Tops a column up to n with further snapped prior draws (nn-Meter's floors leave it short).
void top_up(column& v, std::size_t n, const inverse_cdf& icdf, const column& allowed,
            sample_rng& rng) {
  while (v.size() < n) v.push_back(snap(icdf.draw(rng), allowed));
}

// A column of n values: the first floor(prior_share * n) drawn from the prior and snapped,
// then the frequent values, topped up from the prior, shuffled (nn-Meter's hw / ks / stride).
column mixed_column(std::size_t n, double prior_share, const column& prior, const column& allowed,
                    std::initializer_list<std::pair<dim, double>> frequent, sample_rng& rng) {
  const auto n1 = static_cast<std::size_t>(std::floor(prior_share * static_cast<double>(n)));
  const inverse_cdf icdf(prior);
  column v = snapped(icdf.draws(rng, n1), allowed);
  append_shares(v, n - n1, frequent);
  top_up(v, n, icdf, allowed, rng);
  return v;
}

// The redraw rule of the caps: which parameters are channels, and the prior each comes from.
struct channel_source {
  std::string param;
  const inverse_cdf* icdf;
};

class capper {
 public:
  capper(const sampling_caps& caps, sample_rng& rng) : caps_(caps), rng_(rng) {}

  // Brings c within the caps by redrawing its channel parameters, then halving them.
  void apply(kernel_config& c, const std::vector<channel_source>& channels, bool even) {
    if (within_caps(c, caps_)) return;
    for (int attempt = 0; attempt < caps_.max_redraws; ++attempt) {
      for (const channel_source& ch : channels) {
        dim v = std::max<dim>(1, ch.icdf->draw(rng_));
        if (even && v % 2) ++v;
        c.params[ch.param] = v;
      }
      if (within_caps(c, caps_)) return;
    }
    for (;;) {
      bool changed = false;
      for (const channel_source& ch : channels) {
        dim& v = c.params[ch.param];
        const dim floor_v = even ? 2 : 1;
        if (v > floor_v) {
          v = std::max<dim>(floor_v, v / 2);
          if (even && v % 2) ++v;
          changed = true;
        }
      }
      if (within_caps(c, caps_)) return;
      if (!changed)
        throw nnmeter::error("kernel sampler: " + c.describe() + " exceeds the sampling caps (" +
                             std::to_string(caps_.max_mflops) + " MFLOPs, " +
                             std::to_string(caps_.max_mbytes) +
                             " MB) even with the fewest channels; raise the caps");
    }
  }

 private:
  const sampling_caps& caps_;
  sample_rng& rng_;
};

kernel_config make(kernel_kind kind, std::initializer_list<std::pair<const char*, dim>> p) {
  kernel_config c;
  c.kind = kind;
  for (const auto& [k, v] : p) c.params[k] = v;
  return c;
}

// nn-Meter's get_conv_flop_params / get_dwconv_flop_params / get_fc_flop_params, for sorting.
double conv_params(const kernel_config& c) {
  const auto ks = static_cast<double>(c.at("KERNEL_SIZE"));
  return static_cast<double>(c.at("COUT")) * (ks * ks * static_cast<double>(c.at("CIN")) + 1);
}
double conv_flops(const kernel_config& c) {
  const double hs = static_cast<double>(c.at("HW")) / static_cast<double>(c.at("STRIDES"));
  return 2 * hs * hs * conv_params(c);
}
double dwconv_flops(const kernel_config& c) {
  const auto ks = static_cast<double>(c.at("KERNEL_SIZE"));
  const double params = static_cast<double>(c.at("CIN")) * (ks * ks + 1);
  const double hs = static_cast<double>(c.at("HW")) / static_cast<double>(c.at("STRIDES"));
  return 2 * hs * hs * params;
}
double fc_flops(const kernel_config& c) {
  return (2 * static_cast<double>(c.at("CIN")) + 1) * static_cast<double>(c.at("COUT"));
}

std::vector<kernel_config> sample_conv(std::size_t n, const prior_columns& p, sample_rng& rng,
                                       capper& cap) {
  const inverse_cdf cin(p.conv_cin()), cout(p.conv_cout());
  const column cins = cin.draws(rng, n);
  const column couts = cout.draws(rng, n);
  column hws = mixed_column(n, 0.7, p.conv_hw(), hw_conv, {{112, 0.2}, {56, 0.4}, {28, 0.4}}, rng);
  column ks = mixed_column(n, 0.7, p.conv_ks(), ks_conv, {{5, 0.4}, {7, 0.6}}, rng);
  column ss = mixed_column(n, 0.7, p.conv_stride(), s_conv, {{2, 0.4}, {1, 0.6}}, rng);
  rng.shuffle(hws);
  rng.shuffle(ss);
  rng.shuffle(ks);
  std::vector<kernel_config> out;
  for (std::size_t i = 0; i < n; ++i) {
    kernel_config c = make(kernel_kind::conv_bn_relu, {{"HW", hws[i]},
                                                       {"CIN", std::max<dim>(1, cins[i])},
                                                       {"COUT", std::max<dim>(1, couts[i])},
                                                       {"KERNEL_SIZE", ks[i]},
                                                       {"STRIDES", ss[i]}});
    cap.apply(c, {{"CIN", &cin}, {"COUT", &cout}}, false);
    out.push_back(std::move(c));
  }
  std::stable_sort(out.begin(), out.end(), [](const kernel_config& a, const kernel_config& b) {
    return std::make_tuple(conv_flops(a), conv_params(a)) <
           std::make_tuple(conv_flops(b), conv_params(b));
  });
  return out;
}

std::vector<kernel_config> sample_dwconv(std::size_t n, const prior_columns& p, sample_rng& rng,
                                         capper& cap) {
  const inverse_cdf cin(p.dw_cin());
  const column cins = cin.draws(rng, n);
  column hws = mixed_column(n, 0.8, p.dw_hw(), hw_common, {{112, 0.4}, {56, 0.4}, {28, 0.2}}, rng);
  column ks = mixed_column(n, 0.8, p.dw_ks(), ks_conv, {{5, 0.4}, {7, 0.6}}, rng);
  column ss = mixed_column(n, 0.8, p.dw_stride(), s_dw, {{2, 0.5}, {1, 0.5}}, rng);
  rng.shuffle(hws);
  rng.shuffle(ks);
  rng.shuffle(ss);
  std::vector<kernel_config> out;
  for (std::size_t i = 0; i < n; ++i) {
    kernel_config c = make(kernel_kind::dwconv_bn_relu, {{"HW", hws[i]},
                                                         {"CIN", std::max<dim>(1, cins[i])},
                                                         {"KERNEL_SIZE", ks[i]},
                                                         {"STRIDES", ss[i]}});
    cap.apply(c, {{"CIN", &cin}}, false);
    out.push_back(std::move(c));
  }
  std::stable_sort(out.begin(), out.end(), [](const kernel_config& a, const kernel_config& b) {
    return dwconv_flops(a) < dwconv_flops(b);
  });
  return out;
}

std::vector<kernel_config> sample_fc(std::size_t n, const prior_columns& p, sample_rng& rng,
                                     capper& cap) {
  const inverse_cdf cin(p.fc_cin()), cout(p.fc_cout());
  const std::size_t fixed = n / 2;  // nn-Meter: half with COUT 1000, half with a sampled COUT
  std::vector<kernel_config> out;
  const column cins1 = cin.draws(rng, fixed);
  for (std::size_t i = 0; i < fixed; ++i) {
    kernel_config c = make(kernel_kind::fc, {{"CIN", std::max<dim>(1, cins1[i])}, {"COUT", 1000}});
    cap.apply(c, {{"CIN", &cin}}, false);
    out.push_back(std::move(c));
  }
  const column cins2 = cin.draws(rng, n - fixed);
  const column couts2 = cout.draws(rng, n - fixed);
  for (std::size_t i = 0; i < n - fixed; ++i) {
    kernel_config c = make(kernel_kind::fc, {{"CIN", std::max<dim>(1, cins2[i])},
                                             {"COUT", std::max<dim>(1, couts2[i])}});
    cap.apply(c, {{"CIN", &cin}, {"COUT", &cout}}, false);
    out.push_back(std::move(c));
  }
  std::stable_sort(out.begin(), out.end(), [](const kernel_config& a, const kernel_config& b) {
    return fc_flops(a) < fc_flops(b);
  });
  return out;
}

std::vector<kernel_config> sample_pooling(kernel_kind kind, std::size_t n, const prior_columns& p,
                                          sample_rng& rng, capper& cap) {
  const inverse_cdf cin(p.pool_cin()), hw(p.pool_hw());
  const column cins = cin.draws(rng, n);
  const column hws = snapped(hw.draws(rng, n), hw_pool);
  // The table's (ks, stride) pairs, cycled to n and shuffled as pairs (nn-Meter zips the raw
  // columns, which stops at the table's 54 rows).
  const column tks = snapped(p.pool_ks(), ks_pool);
  const column tss = snapped(p.pool_stride(), s_pool);
  std::vector<std::pair<dim, dim>> win;
  for (std::size_t i = 0; i < n; ++i) win.emplace_back(tks[i % tks.size()], tss[i % tss.size()]);
  rng.shuffle(win);
  std::vector<kernel_config> out;
  for (std::size_t i = 0; i < n; ++i) {
    kernel_config c = make(kind, {{"HW", hws[i]},
                                  {"CIN", std::max<dim>(1, cins[i])},
                                  {"KERNEL_SIZE", win[i].first},
                                  {"STRIDES", win[i].second}});
    cap.apply(c, {{"CIN", &cin}}, false);
    out.push_back(std::move(c));
  }
  return out;
}

// nn-Meter's sampling_hw_cin: CIN from the conv channels; 80 % of HW from the conv sizes
// snapped to `allowed`, the rest 40 % 112, 40 % 56, 20 % 28.
struct hw_cin_columns {
  column hws, cins;
};
hw_cin_columns hw_cin(std::size_t n, const prior_columns& p, const inverse_cdf& cin,
                      sample_rng& rng, const column& allowed = hw_common) {
  hw_cin_columns r;
  r.cins = cin.draws(rng, n);
  r.hws = mixed_column(n, 0.8, p.conv_hw(), allowed, {{112, 0.4}, {56, 0.4}, {28, 0.2}}, rng);
  rng.shuffle(r.hws);
  return r;
}

dim even_up(dim v) { return v % 2 ? v + 1 : v; }

// A list of n values: floor(share * n) of each value but the last, the last filling the rest,
// shuffled.
column shares(std::size_t n, std::initializer_list<std::pair<dim, double>> s, sample_rng& rng) {
  column v;
  const auto* last = s.end() - 1;
  for (const auto* it = s.begin(); it != last; ++it)
    v.insert(v.end(), static_cast<std::size_t>(std::floor(it->second * static_cast<double>(n))),
             it->first);
  v.insert(v.end(), n - v.size(), last->first);
  rng.shuffle(v);
  return v;
}

std::vector<kernel_config> sample_hw_cin_family(kernel_kind kind, sampler_kind s, std::size_t n,
                                                const prior_columns& p, sample_rng& rng,
                                                capper& cap) {
  const inverse_cdf cin(p.conv_cin());
  const hw_cin_columns hc =
      hw_cin(n, p, cin, rng, s == sampler_kind::resize ? hw_resize : hw_common);
  column extra;
  if (s == sampler_kind::global_avgpool) extra = shares(n, {{3, 0.5}, {7, 0.5}}, rng);
  if (s == sampler_kind::mul) extra = shares(n, {{1, 0.5}, {0, 0.5}}, rng);
  if (s == sampler_kind::pad) extra = shares(n, {{2, 0.25}, {3, 0.25}, {1, 0.5}}, rng);
  if (s == sampler_kind::resize) extra = shares(n, {{4, 0.2}, {2, 0.8}}, rng);
  if (s == sampler_kind::softmax) extra = shares(n, {{1, 0.5}, {0, 0.5}}, rng);
  const bool even = s == sampler_kind::cin_even;
  std::vector<kernel_config> out;
  for (std::size_t i = 0; i < n; ++i) {
    dim c_in = std::max<dim>(1, hc.cins[i]);
    if (even) c_in = even_up(c_in);
    kernel_config c = make(kind, {{"HW", hc.hws[i]}, {"CIN", c_in}});
    switch (s) {
      case sampler_kind::global_avgpool:
        c.params["HW"] = extra[i];
        break;
      case sampler_kind::mul:
        c.params["BROADCAST"] = extra[i];
        break;
      case sampler_kind::pad:
        c.params["PAD"] = extra[i];
        break;
      case sampler_kind::resize:
        c.params["SCALE"] = extra[i];
        break;
      case sampler_kind::softmax:
        if (extra[i]) c.params["HW"] = 1;  // a classifier head: [1, 1, 1, C]
        break;
      default:
        break;
    }
    cap.apply(c, {{"CIN", &cin}}, even);
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<kernel_config> sample_concat(std::size_t n, const prior_columns& p, sample_rng& rng,
                                         capper& cap) {
  const inverse_cdf hw(p.conv_hw()), cin(p.conv_cin());
  const column hws = snapped(hw.draws(rng, n), hw_concat);
  column cins[4];
  for (column& c : cins) c = cin.draws(rng, n);
  // nn-Meter: 40 % four inputs, 20 % three, the rest two.
  const column ns = shares(n, {{4, 0.4}, {3, 0.2}, {2, 1.0}}, rng);
  std::vector<kernel_config> out;
  const char* names[4] = {"CIN1", "CIN2", "CIN3", "CIN4"};
  for (std::size_t i = 0; i < n; ++i) {
    kernel_config c = make(kernel_kind::concat, {{"HW", hws[i]}});
    std::vector<channel_source> active;
    for (std::size_t j = 0; j < 4; ++j) {
      const bool on = static_cast<dim>(j) < ns[i];
      c.params[names[j]] = on ? std::max<dim>(1, cins[j][i]) : 0;
      if (on) active.push_back({names[j], &cin});
    }
    cap.apply(c, active, false);
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<kernel_config> sample_matmul(std::size_t n, const prior_columns& p, sample_rng& rng,
                                         capper& cap) {
  const inverse_cdf hw(p.conv_hw()), cin(p.conv_cin()), cout(p.conv_cout());
  const column hws = snapped(hw.draws(rng, n), hw_tokens);
  const column cins = cin.draws(rng, n);
  const column couts = cout.draws(rng, n);
  std::vector<kernel_config> out;
  for (std::size_t i = 0; i < n; ++i) {
    kernel_config c = make(kernel_kind::matmul, {{"M", hws[i] * hws[i]},
                                                 {"CIN", std::max<dim>(1, cins[i])},
                                                 {"COUT", std::max<dim>(1, couts[i])}});
    cap.apply(c, {{"CIN", &cin}, {"COUT", &cout}}, false);
    out.push_back(std::move(c));
  }
  return out;
}

// [lo, hi) of nn-Meter's fine-grained range around C, kept >= 1 and non-empty.
std::pair<dim, dim> finegrained_range(dim c) {
  const dim lo = std::max<dim>(1, c / 2);
  dim hi = static_cast<dim>(std::floor(1.2 * static_cast<double>(c)));
  if (hi <= lo) hi = lo + 1;
  return {lo, hi};
}

// nn-Meter's sample_in_range: the whole range shuffled when it has at most n values, else n
// distinct values (a partial Fisher-Yates shuffle).
column sample_in_range(dim lo, dim hi, std::size_t n, sample_rng& rng) {
  column all;
  for (dim v = lo; v < hi; ++v) all.push_back(v);
  if (all.size() <= n) {
    rng.shuffle(all);
    return all;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const auto j = i + static_cast<std::size_t>(rng.below(all.size() - i));
    std::swap(all[i], all[j]);
  }
  all.resize(n);
  return all;
}

}  // namespace

std::vector<kernel_config> sample_prior(kernel_kind kind, std::size_t n,
                                        const sampler_options& options,
                                        const prior_tables& priors) {
  const sampler_kind s = sampler_for(kind);
  sample_rng rng(derive_seed(options.seed, "prior:" + kind_name(kind)));
  capper cap(options.caps, rng);
  const prior_columns p{priors};
  if (n == 0) return {};
  switch (s) {
    case sampler_kind::conv:
      return sample_conv(n, p, rng, cap);
    case sampler_kind::dwconv:
      return sample_dwconv(n, p, rng, cap);
    case sampler_kind::fc:
      return sample_fc(n, p, rng, cap);
    case sampler_kind::pooling:
      return sample_pooling(kind, n, p, rng, cap);
    case sampler_kind::concat:
      return sample_concat(n, p, rng, cap);
    case sampler_kind::matmul:
      return sample_matmul(n, p, rng, cap);
    default:
      return sample_hw_cin_family(kind, s, n, p, rng, cap);
  }
}

std::vector<kernel_config> sample_finegrained(const kernel_config& around, std::size_t n,
                                              const sampler_options& options) {
  validate(around);
  sample_rng rng(derive_seed(options.seed, "finegrained:" + around.describe()));
  const kernel_kind k = around.kind;
  std::vector<std::string> varied;
  if (k == kernel_kind::conv_bn_relu || k == kernel_kind::fc || k == kernel_kind::matmul) {
    varied = {"CIN", "COUT"};
  } else if (k == kernel_kind::concat) {
    for (const char* name : {"CIN1", "CIN2", "CIN3", "CIN4"})
      if (around.at(name) > 0) varied.emplace_back(name);
  } else {
    varied = {"CIN"};
  }
  const bool even =
      k == kernel_kind::split || k == kernel_kind::channelshuffle || k == kernel_kind::se;
  std::vector<column> values;
  std::size_t len = n;
  for (const std::string& name : varied) {
    const auto [lo, hi] = finegrained_range(around.at(name));
    values.push_back(sample_in_range(lo, hi, n, rng));
    len = std::min(len, values.back().size());
  }
  std::vector<kernel_config> out;
  for (std::size_t i = 0; i < len; ++i) {
    kernel_config c = around;
    for (std::size_t j = 0; j < varied.size(); ++j)
      c.params[varied[j]] = even ? even_up(values[j][i]) : values[j][i];
    if (within_caps(c, options.caps)) out.push_back(std::move(c));
  }
  return out;
}

std::vector<kernel_config> sample_finegrained(const std::vector<kernel_config>& around,
                                              std::size_t n_each, const sampler_options& options) {
  std::vector<kernel_config> out;
  for (const kernel_config& c : around) {
    std::vector<kernel_config> v = sample_finegrained(c, n_each, options);
    out.insert(out.end(), std::make_move_iterator(v.begin()), std::make_move_iterator(v.end()));
  }
  return out;
}

}  // namespace nnmeter::builder
