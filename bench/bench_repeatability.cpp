// Repeatability of the measurement protocol across processes (docs/measurement.md).
//
// Profiles the same model in P separate processes, one after the other (default 5), each a
// fresh run of this program (`--child`), and prints every process's reported latency (the
// protocol's minimum) and the coefficient of variation across processes: the figure
// docs/measurement.md reports and the protocol's target (CV <= 5 %).
//
//   bench_repeatability [--model small|mobilenetv2|resnet18|all] [--processes 5]
//                       [--runs N] [--blocks K] [--passes P] [--warmup S] [--reference]
//                       [--clock steady|thread-cpu]
//
// Models are built with graph_builder: "small" is the noise study's test graph (conv 3x3 s2
// -> dwconv 3x3 -> global pool -> fc), "mobilenetv2" and "resnet18" follow the torchvision
// architectures at 224x224 (batch norm after every conv, folded by the backend). Without
// --runs, resnet18 uses 10 invokes per block (its invoke is ~100x the small graph's) and the
// others the protocol's 50.
// SPDX-License-Identifier: MIT
#include "backend.hpp"

#include <nnmeter/ir/graph_builder.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

namespace nb = nnmeter::backends;
using nnmeter::graph_builder;
using nnmeter::tensor_ref;
using dim = graph_builder::dim;

tensor_ref relu6(graph_builder& b, tensor_ref x) { return b.clip(x, 0, 6); }

nnmeter::graph small_graph() {
  graph_builder b;
  auto x = b.input({1, 224, 224, 3});
  x = b.relu(b.conv(x, 32, 3, 2));
  x = relu6(b, b.dwconv(x, 3));
  b.fc(b.global_avgpool(x), 1000);
  return std::move(b).build();
}

nnmeter::graph mobilenetv2() {
  graph_builder b;
  auto x = b.input({1, 224, 224, 3});
  x = relu6(b, b.bn(b.conv(x, 32, 3, 2)));
  dim cin = 32;
  struct stage {
    dim t, c, n, s;
  };
  for (const stage& st : {stage{1, 16, 1, 1}, stage{6, 24, 2, 2}, stage{6, 32, 3, 2},
                          stage{6, 64, 4, 2}, stage{6, 96, 3, 1}, stage{6, 160, 3, 2},
                          stage{6, 320, 1, 1}}) {
    for (dim i = 0; i < st.n; ++i) {
      const dim stride = i == 0 ? st.s : 1;
      tensor_ref y = x;
      if (st.t != 1) y = relu6(b, b.bn(b.conv(y, cin * st.t, 1)));
      y = relu6(b, b.bn(b.dwconv(y, 3, stride)));
      y = b.bn(b.conv(y, st.c, 1));
      x = (stride == 1 && cin == st.c) ? b.add(x, y) : y;
      cin = st.c;
    }
  }
  x = relu6(b, b.bn(b.conv(x, 1280, 1)));
  b.fc(b.global_avgpool(x), 1000);
  return std::move(b).build();
}

nnmeter::graph resnet18() {
  graph_builder b;
  auto x = b.input({1, 224, 224, 3});
  x = b.relu(b.bn(b.conv(x, 64, 7, 2)));
  x = b.maxpool(x, 3, 2, nnmeter::padding_mode::same);
  dim cin = 64;
  for (dim c : {64, 128, 256, 512}) {
    for (int i = 0; i < 2; ++i) {
      const dim stride = (i == 0 && c != 64) ? 2 : 1;
      tensor_ref y = b.relu(b.bn(b.conv(x, c, 3, stride)));
      y = b.bn(b.conv(y, c, 3));
      const tensor_ref shortcut = (stride != 1 || cin != c) ? b.bn(b.conv(x, c, 1, stride)) : x;
      x = b.relu(b.add(y, shortcut));
      cin = c;
    }
  }
  b.fc(b.global_avgpool(x), 1000);
  return std::move(b).build();
}

nnmeter::graph model_by_name(const std::string& name) {
  if (name == "small") return small_graph();
  if (name == "mobilenetv2") return mobilenetv2();
  if (name == "resnet18") return resnet18();
  throw std::invalid_argument("unknown model '" + name + "' (small, mobilenetv2, resnet18)");
}

struct options {
  std::string model = "all";
  std::string child;  // non-empty: this process profiles that model once
  int processes = 5;
  int runs = 0;  // 0: per-model default
  int blocks = 5;
  int passes = 3;
  double warmup = 0.2;
  bool reference = false;
  std::string clock = "steady";
};

int default_runs(const std::string& model) { return model == "resnet18" ? 10 : 50; }

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--model") o.model = value();
    else if (a == "--child") o.child = value();
    else if (a == "--processes") o.processes = std::stoi(value());
    else if (a == "--runs") o.runs = std::stoi(value());
    else if (a == "--blocks") o.blocks = std::stoi(value());
    else if (a == "--passes") o.passes = std::stoi(value());
    else if (a == "--warmup") o.warmup = std::stod(value());
    else if (a == "--reference") o.reference = true;
    else if (a == "--clock") o.clock = value();
    else throw std::invalid_argument("unknown argument '" + a + "'");
  }
  if (o.processes < 2) throw std::invalid_argument("--processes must be >= 2");
  return o;
}

std::string protocol_args(const options& o, const std::string& model) {
  std::string s = " --runs " + std::to_string(o.runs > 0 ? o.runs : default_runs(model)) +
                  " --blocks " + std::to_string(o.blocks) + " --passes " +
                  std::to_string(o.passes) + " --warmup " + std::to_string(o.warmup);
  if (o.reference) s += " --reference";
  s += " --clock " + o.clock;
  return s;
}

// The child: profile one model, print one machine-readable line.
int run_child(const options& o) {
  nb::measurement_protocol p;
  p.invokes_per_block = o.runs > 0 ? o.runs : default_runs(o.child);
  p.blocks = o.blocks;
  p.passes = o.passes;
  p.warmup_seconds = o.warmup;
  p.normalise_by_reference = o.reference;
  p.clock = nb::parse_measurement_clock(o.clock);
  const nnmeter::graph g = model_by_name(o.child);
  const auto be = nb::make_backend("xnnpack");
  const nb::profile_result r = be->profile(g, p);
  std::printf("latency_ms %.6f median_ms %.6f cv %.6f runs %zu wall_s %.3f reference_ms %.6f "
              "normalised %.6f\n",
              r.latency_ms, r.stats.median_ms, r.stats.cv, r.stats.runs, r.wall_seconds,
              r.reference_ms.value_or(0.0), r.normalised.value_or(0.0));
  return 0;
}

struct child_result {
  double latency_ms = 0, median_ms = 0, within_cv = 0, wall_s = 0, reference_ms = 0,
         normalised = 0;
};

child_result spawn(const std::string& self, const options& o, const std::string& model) {
  const std::string cmd = "'" + self + "' --child " + model + protocol_args(o, model);
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + cmd);
  char line[512] = {};
  const bool got = std::fgets(line, sizeof line, pipe) != nullptr;
  const int status = pclose(pipe);
  child_result c;
  std::size_t runs = 0;
  if (!got || status != 0 ||
      std::sscanf(line,
                  "latency_ms %lf median_ms %lf cv %lf runs %zu wall_s %lf reference_ms %lf "
                  "normalised %lf",
                  &c.latency_ms, &c.median_ms, &c.within_cv, &runs, &c.wall_s, &c.reference_ms,
                  &c.normalised) != 7)
    throw std::runtime_error("child process failed: " + cmd);
  return c;
}

struct spread {
  double mean = 0, cv = 0, range = 0;  // range: (max - min) / min
};

spread spread_of(const std::vector<double>& v) {
  spread s;
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - s.mean) * (x - s.mean);
  s.cv = std::sqrt(ss / static_cast<double>(v.size() - 1)) / s.mean;
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  s.range = (*hi - *lo) / *lo;
  return s;
}

int run_parent(const options& o) {
  char self[4096] = {};
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) throw std::runtime_error("cannot find this program (/proc/self/exe)");
  std::vector<std::string> models;
  if (o.model == "all")
    models = {"small", "mobilenetv2", "resnet18"};
  else
    models = {o.model};
  for (const std::string& m : models) model_by_name(m);  // fail early on a bad name
  nb::parse_measurement_clock(o.clock);

  std::printf("device: %s\n", nb::host_cpu_description().c_str());
  std::printf("protocol: 1 thread, %s clock, warm-up %.3g s per pass, %d passes x %d blocks x N "
              "runs%s; %d processes, one after the other\n\n",
              o.clock.c_str(), o.warmup, o.passes, o.blocks,
              o.reference ? ", reference kernel" : "", o.processes);
  for (const std::string& m : models) {
    const int runs = o.runs > 0 ? o.runs : default_runs(m);
    std::printf("model %s (%zu nodes), N = %d\n", m.c_str(), model_by_name(m).num_nodes(), runs);
    std::vector<double> lat, med, norm;
    for (int i = 0; i < o.processes; ++i) {
      const child_result c = spawn(self, o, m);
      lat.push_back(c.latency_ms);
      med.push_back(c.median_ms);
      norm.push_back(c.normalised);
      std::printf("  process %d: latency %.4f ms  median %.4f ms  within-run cv %.2f %%  "
                  "(%.1f s)",
                  i + 1, c.latency_ms, c.median_ms, c.within_cv * 100, c.wall_s);
      if (o.reference)
        std::printf("  reference %.4f ms  normalised %.4f", c.reference_ms, c.normalised);
      std::printf("\n");
      std::fflush(stdout);
    }
    const spread sl = spread_of(lat);
    const spread sm = spread_of(med);
    std::printf("  across %d processes: latency (min) mean %.4f ms, CV %.2f %%, (max-min)/min "
                "%.2f %%; median: CV %.2f %%\n",
                o.processes, sl.mean, sl.cv * 100, sl.range * 100, sm.cv * 100);
    if (o.reference) {
      const spread sn = spread_of(norm);
      std::printf("  normalised latency / reference: mean %.4f, CV %.2f %%\n", sn.mean,
                  sn.cv * 100);
    }
    std::printf("  target CV <= 5 %%: %s\n\n", sl.cv <= 0.05 ? "met" : "NOT met");
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const options o = parse(argc, argv);
    return o.child.empty() ? run_parent(o) : run_child(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_repeatability: error: %s\n", e.what());
    return 1;
  }
}
