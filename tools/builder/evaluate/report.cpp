// nnmeter builder — the evaluation report's files: Markdown, CSV, JSON and SVG scatter plots
// (evaluate.hpp, docs/evaluation.md).
// SPDX-License-Identifier: MIT
#include "builder/evaluate/evaluate.hpp"

#include "builder/package/atomic_file.hpp"
#include "registry/result_json.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <system_error>

namespace nnmeter::builder {

namespace {

namespace fs = std::filesystem;
namespace nb = nnmeter::backends;

std::string number(double x, int digits) {
  if (!std::isfinite(x)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

std::string percent(double share) { return number(share * 100, 1); }

std::string signed_percent(double ratio) {
  if (!std::isfinite(ratio)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.1f", ratio * 100);
  return buf;
}

// A latency with four significant figures at least down to microseconds.
std::string ms(double x) {
  if (!std::isfinite(x)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", x);
  return buf;
}

// JSON number, or null when not finite.
nlohmann::ordered_json json_number(double x) {
  return std::isfinite(x) ? nlohmann::ordered_json(x) : nlohmann::ordered_json(nullptr);
}

// A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Text in Markdown table cells: pipes and line breaks would end the cell.
std::string md_cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// A family's name as a file name: letters, digits, '-', '_' and '.' kept, the rest '_'.
std::string file_stem(const std::string& family) {
  std::string out;
  for (char c : family) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.';
    out += keep ? c : '_';
  }
  if (out.empty() || out[0] == '.') out = "_" + out;
  return out;
}

std::string protocol_text(const nb::measurement_protocol& p) {
  return std::to_string(p.threads) + " thread" + (p.threads == 1 ? "" : "s") + ", warm-up >= " +
         number(p.warmup_seconds, 2) + " s per pass, " + std::to_string(p.passes) + " passes x " +
         std::to_string(p.blocks) + " blocks x " + std::to_string(p.invokes_per_block) +
         " runs, " + nb::to_string(p.clock) + " clock, minimum";
}

nlohmann::ordered_json figures_json(const accuracy_figures& a) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["group"] = a.group;
  j["models"] = a.models;
  j["evaluated"] = a.evaluated;
  j["incomplete"] = a.incomplete;
  j["failed"] = a.failed;
  j["not_measured"] = a.not_measured;
  j["rmse_ms"] = json_number(a.rmse_ms);
  j["rmspe"] = json_number(a.rmspe);
  j["mean_abs_error"] = json_number(a.mean_abs_error);
  j["max_abs_error"] = json_number(a.max_abs_error);
  j["within_5"] = json_number(a.within_5);
  j["within_10"] = json_number(a.within_10);
  j["ground_truth_cv_median"] = json_number(a.median_cv);
  j["ground_truth_cv_max"] = json_number(a.max_cv);
  return j;
}

std::string figures_row(const accuracy_figures& a, bool bold) {
  const std::string g = bold ? "**" + md_cell(a.group) + "**" : md_cell(a.group);
  return "| " + g + " | " + std::to_string(a.models) + " | " + std::to_string(a.evaluated) +
         " | " + percent(a.within_5) + " | " + percent(a.within_10) + " | " + ms(a.rmse_ms) +
         " | " + number(a.rmspe, 2) + " | " + number(a.mean_abs_error, 2) + " | " +
         number(a.max_abs_error, 2) + " | " + number(a.median_cv, 2) + " / " +
         number(a.max_cv, 2) + " |\n";
}

std::string breakdown_table(const model_evaluation& m, std::size_t rows) {
  const nnmeter::prediction& p = m.prediction;
  std::vector<std::size_t> order(p.kernels.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto value = [&](std::size_t i) {
    return p.kernels[i].status == nnmeter::kernel_status::predicted ? p.kernels[i].latency_ms
                                                                   : -1.0;
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return value(a) > value(b); });
  std::string out = "| # | kernel | kind | status | predicted (ms) | share of prediction |\n"
                    "|---:|---|---|---|---:|---:|\n";
  double rest = 0;
  std::size_t rest_n = 0;
  for (std::size_t r = 0; r < order.size(); ++r) {
    const std::size_t i = order[r];
    const nnmeter::kernel_latency& l = p.kernels[i];
    const bool predicted = l.status == nnmeter::kernel_status::predicted;
    if (r >= rows && predicted) {
      rest += l.latency_ms;
      ++rest_n;
      continue;
    }
    out += "| " + std::to_string(i + 1) + " | " + md_cell(p.detected.kernels[i].name) + " | " +
           std::string(nnmeter::to_string(p.detected.kernels[i].kind)) + " | " +
           std::string(nnmeter::to_string(l.status)) + " | " +
           (predicted ? ms(l.latency_ms) : std::string("—")) + " | " +
           (predicted && p.latency_ms > 0 ? percent(l.latency_ms / p.latency_ms) + " %"
                                          : std::string("—")) +
           " |\n";
  }
  if (rest_n != 0)
    out += "| | " + std::to_string(rest_n) + " more kernels | | predicted | " + ms(rest) + " | " +
           (p.latency_ms > 0 ? percent(rest / p.latency_ms) + " %" : std::string("—")) + " |\n";
  return out;
}

std::string markdown(const evaluation_report& r, std::size_t worst,
                     const std::vector<std::pair<std::string, std::string>>& plots) {
  const accuracy_figures& all = r.overall;
  std::string md = "# Evaluation of predictor " + r.predictor.name + " " + r.predictor.version +
                   "\n\n";
  md += "| | |\n|---|---|\n";
  md += "| predictor | " + md_cell(r.predictor.name) + " " + md_cell(r.predictor.version) + " (" +
        md_cell(r.predictor.device) + "; backend " + md_cell(r.predictor.backend) +
        "; feature set " + std::string(nnmeter::to_string(r.predictor.features)) + ") |\n";
  md += "| measured on | " + md_cell(r.backend) + ", " + md_cell(r.device) +
        (r.runtime.empty() ? "" : "; " + md_cell(r.runtime)) + " |\n";
  md += "| protocol | " + protocol_text(r.protocol) + " |\n";
  md += "| when | " + r.started_at + " to " + r.finished_at + " (UTC) |\n";
  md += "| models | " + std::to_string(all.models) + ": " + std::to_string(all.evaluated) +
        " evaluated, " + std::to_string(all.incomplete) + " incomplete, " +
        std::to_string(all.failed) + " failed, " + std::to_string(all.not_measured) +
        " not measured; " + std::to_string(r.measuring.measured) + " measured by this run, " +
        std::to_string(r.measuring.already_stored) + " taken from the profile store |\n\n";

  md += "## Accuracy\n\n";
  md += "Error = predicted / measured - 1 for every evaluated model (measured, every kernel "
        "predicted). The ground-truth CV is the coefficient of variation of the measurement's "
        "block minima: how repeatable the measured latency itself is.\n\n";
  md += "| family | models | evaluated | within ±5 % | within ±10 % | RMSE (ms) | RMSPE (%) | "
        "mean abs. error (%) | max abs. error (%) | ground-truth CV median / max (%) |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const accuracy_figures& f : r.families) md += figures_row(f, false);
  md += figures_row(all, true) + "\n";

  std::vector<const model_evaluation*> ranked;
  for (const model_evaluation& m : r.models)
    if (m.outcome == model_outcome::evaluated) ranked.push_back(&m);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const model_evaluation* a, const model_evaluation* b) {
                     return std::abs(a->relative_error) > std::abs(b->relative_error);
                   });
  if (ranked.size() > worst) ranked.resize(worst);
  if (!ranked.empty()) {
    md += "## The " + std::to_string(ranked.size()) + " worst models\n\n";
    std::size_t n = 0;
    for (const model_evaluation* m : ranked) {
      md += "### " + std::to_string(++n) + ". " + md_cell(m->name) + " (" + md_cell(m->family) +
            "): " + signed_percent(m->relative_error) + " %\n\n";
      md += "Predicted " + ms(m->prediction.latency_ms) + " ms, measured " + ms(m->measured_ms) +
            " ms (ground-truth CV " + number(m->ground_truth_cv * 100, 2) + " %), " +
            std::to_string(m->prediction.kernels.size()) + " kernels; " + md_cell(m->source) +
            ".\n\n";
      md += breakdown_table(*m, 12) + "\n";
    }
  }

  std::string left;
  for (const model_evaluation& m : r.models) {
    if (m.outcome == model_outcome::evaluated) continue;
    left += "| " + md_cell(m.name) + " | " + md_cell(m.family) + " | " + to_string(m.outcome) +
            " | " +
            (m.outcome == model_outcome::incomplete ? ms(m.measured_ms) : std::string("—")) +
            " | " +
            md_cell(m.outcome == model_outcome::not_measured
                        ? std::string("the evaluation stopped before it; run it again to resume")
                        : m.error) +
            " |\n";
  }
  if (!left.empty()) {
    md += "## Models without figures\n\n| model | family | outcome | measured (ms) | why |\n"
          "|---|---|---|---:|---|\n" +
          left + "\n";
  }

  md += "## Predicted against measured\n\nEach point is a model; the line is predicted = "
        "measured, the dashed lines ±10 %.\n\n";
  for (const auto& [title, file] : plots) md += "![" + md_cell(title) + "](" + file + ")\n\n";
  return md;
}

std::string models_csv(const evaluation_report& r) {
  std::string out =
      "name,family,source,outcome,measured_ms,predicted_ms,error_percent,ground_truth_cv_percent,"
      "runs,kernels,kernels_without_latency,resumed,error\n";
  for (const model_evaluation& m : r.models) {
    const bool measured =
        m.outcome == model_outcome::evaluated || m.outcome == model_outcome::incomplete;
    const bool evaluated = m.outcome == model_outcome::evaluated;
    out += csv_field(m.name) + "," + csv_field(m.family) + "," + csv_field(m.source) + "," +
           to_string(m.outcome) + "," + (measured ? number(m.measured_ms, 6) : std::string()) +
           "," + number(m.prediction.latency_ms, 6) + "," +
           (evaluated ? number(m.relative_error * 100, 3) : std::string()) + "," +
           (measured && std::isfinite(m.ground_truth_cv) ? number(m.ground_truth_cv * 100, 3)
                                                         : std::string()) +
           "," + std::to_string(m.runs) + "," + std::to_string(m.prediction.kernels.size()) +
           "," + std::to_string(m.prediction.unpredicted) + "," +
           (m.resumed ? "true" : "false") + "," + csv_field(m.error) + "\n";
  }
  return out;
}

std::string kernels_csv(const evaluation_report& r) {
  std::string out = "model,family,index,kernel,kind,status,predicted_ms\n";
  for (const model_evaluation& m : r.models) {
    const nnmeter::prediction& p = m.prediction;
    for (std::size_t i = 0; i < p.kernels.size(); ++i) {
      // A fallback estimate is part of the model's latency as much as a forest's: both are
      // written (the status tells which), nothing for a kernel without a latency.
      const bool predicted = p.kernels[i].status == nnmeter::kernel_status::predicted ||
                             p.kernels[i].status == nnmeter::kernel_status::fallback;
      out += csv_field(m.name) + "," + csv_field(m.family) + "," + std::to_string(i + 1) + "," +
             csv_field(p.detected.kernels[i].name) + "," +
             std::string(nnmeter::to_string(p.detected.kernels[i].kind)) + "," +
             std::string(nnmeter::to_string(p.kernels[i].status)) + "," +
             (predicted ? number(p.kernels[i].latency_ms, 6) : std::string()) + "\n";
    }
  }
  return out;
}

std::string report_json(const evaluation_report& r) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["predictor"] = {{"name", r.predictor.name},
                    {"version", r.predictor.version},
                    {"device", r.predictor.device},
                    {"backend", r.predictor.backend},
                    {"feature_set", std::string(nnmeter::to_string(r.predictor.features))}};
  j["backend"] = r.backend;
  j["device"] = r.device;
  j["runtime"] = r.runtime;
  j["protocol"] = nb::protocol_to_json(r.protocol);
  j["started_at"] = r.started_at;
  j["finished_at"] = r.finished_at;
  j["measuring"] = {{"requested", r.measuring.requested},
                    {"measured", r.measuring.measured},
                    {"from_store", r.measuring.already_stored},
                    {"failed", r.measuring.failed},
                    {"not_attempted", r.measuring.not_attempted},
                    {"stopped", r.measuring.stopped},
                    {"seconds", r.measuring.seconds}};
  j["overall"] = figures_json(r.overall);
  nlohmann::ordered_json fams = nlohmann::ordered_json::array();
  for (const accuracy_figures& f : r.families) fams.push_back(figures_json(f));
  j["families"] = std::move(fams);
  nlohmann::ordered_json ms_ = nlohmann::ordered_json::array();
  for (const model_evaluation& m : r.models) {
    const bool measured =
        m.outcome == model_outcome::evaluated || m.outcome == model_outcome::incomplete;
    nlohmann::ordered_json e = nlohmann::ordered_json::object();
    e["name"] = m.name;
    e["family"] = m.family;
    e["source"] = m.source;
    e["outcome"] = to_string(m.outcome);
    e["measured_ms"] = measured ? json_number(m.measured_ms) : nullptr;
    e["predicted_ms"] = m.prediction.latency_ms;
    e["relative_error"] =
        m.outcome == model_outcome::evaluated ? json_number(m.relative_error) : nullptr;
    e["ground_truth_cv"] = measured ? json_number(m.ground_truth_cv) : nullptr;
    e["runs"] = m.runs;
    e["kernels"] = m.prediction.kernels.size();
    e["kernels_without_latency"] = m.prediction.unpredicted;
    e["resumed"] = m.resumed;
    e["error"] = m.error;
    ms_.push_back(std::move(e));
  }
  j["models"] = std::move(ms_);
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace

std::string scatter_plot_svg(const std::string& title,
                             const std::vector<std::pair<double, double>>& points) {
  constexpr double size = 440, left = 70, top = 40, right = 20, bottom = 55;
  const double width = left + size + right, height = top + size + bottom;
  double lo = 0, hi = 0;
  for (const auto& [m, p] : points) {
    if (!(m > 0) || !(p > 0) || !std::isfinite(m) || !std::isfinite(p))
      throw nnmeter::error("scatter plot '" + title + "': latencies must be positive");
    const double a = std::min(m, p), b = std::max(m, p);
    lo = lo == 0 ? a : std::min(lo, a);
    hi = std::max(hi, b);
  }
  if (points.empty()) lo = 0.1, hi = 10;
  // Log axes, at least a factor 4 wide, with a little room around the points.
  double llo = std::log10(lo) - 0.05, lhi = std::log10(hi) + 0.05;
  if (lhi - llo < std::log10(4.0)) {
    const double mid = (llo + lhi) / 2;
    llo = mid - std::log10(4.0) / 2;
    lhi = mid + std::log10(4.0) / 2;
  }
  auto x_of = [&](double v) { return left + (std::log10(v) - llo) / (lhi - llo) * size; };
  auto y_of = [&](double v) { return top + size - (std::log10(v) - llo) / (lhi - llo) * size; };
  auto f = [](double v) { return number(v, 1); };
  std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                  f(width) + "\" height=\"" + f(height) + "\" viewBox=\"0 0 " + f(width) + " " +
                  f(height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"" + f(left + size / 2) + "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">" +
       xml_escape(title) + "</text>\n";
  s += "<rect x=\"" + f(left) + "\" y=\"" + f(top) + "\" width=\"" + f(size) + "\" height=\"" +
       f(size) + "\" fill=\"none\" stroke=\"black\"/>\n";
  // Ticks at 1, 2 and 5 of every decade inside the range.
  for (int e = static_cast<int>(std::floor(llo)); e <= static_cast<int>(std::ceil(lhi)); ++e) {
    for (double m : {1.0, 2.0, 5.0}) {
      const double v = m * std::pow(10.0, e);
      const double l = std::log10(v);
      if (l < llo || l > lhi) continue;
      char label[32];
      std::snprintf(label, sizeof label, "%g", v);
      const std::string gx = f(x_of(v)), gy = f(y_of(v));
      s += "<line x1=\"" + gx + "\" y1=\"" + f(top) + "\" x2=\"" + gx + "\" y2=\"" +
           f(top + size) + "\" stroke=\"#e0e0e0\"/>\n";
      s += "<line x1=\"" + f(left) + "\" y1=\"" + gy + "\" x2=\"" + f(left + size) + "\" y2=\"" +
           gy + "\" stroke=\"#e0e0e0\"/>\n";
      s += "<text x=\"" + gx + "\" y=\"" + f(top + size + 16) + "\" text-anchor=\"middle\">" +
           label + "</text>\n";
      s += "<text x=\"" + f(left - 6) + "\" y=\"" + f(y_of(v) + 4) + "\" text-anchor=\"end\">" +
           label + "</text>\n";
    }
  }
  const double a = std::pow(10.0, llo), b = std::pow(10.0, lhi);
  auto line = [&](double factor, const char* style) {
    // y = factor * x, clipped to the plot.
    const double x0 = std::max(a, a / factor), x1 = std::min(b, b / factor);
    if (x0 >= x1) return;
    s += "<line x1=\"" + f(x_of(x0)) + "\" y1=\"" + f(y_of(x0 * factor)) + "\" x2=\"" +
         f(x_of(x1)) + "\" y2=\"" + f(y_of(x1 * factor)) + "\" " + style + "/>\n";
  };
  line(1.0, "stroke=\"black\"");
  line(1.1, "stroke=\"#888\" stroke-dasharray=\"5,4\"");
  line(0.9, "stroke=\"#888\" stroke-dasharray=\"5,4\"");
  std::size_t inside = 0;
  for (const auto& [m, p] : points) {
    const bool in = std::abs(p / m - 1) <= 0.10 + 1e-12;
    inside += in ? 1 : 0;
    s += "<circle cx=\"" + number(x_of(m), 2) + "\" cy=\"" + number(y_of(p), 2) +
         "\" r=\"3.5\" fill=\"" + (in ? "#1f77b4" : "#d62728") + "\" fill-opacity=\"0.75\"/>\n";
  }
  s += "<text x=\"" + f(left + size / 2) + "\" y=\"" + f(top + size + 38) +
       "\" text-anchor=\"middle\">measured latency (ms)</text>\n";
  s += "<text transform=\"translate(18," + f(top + size / 2) +
       ") rotate(-90)\" text-anchor=\"middle\">predicted latency (ms)</text>\n";
  const std::string caption =
      points.empty() ? std::string("no evaluated models")
                     : std::to_string(points.size()) + " models, " + std::to_string(inside) +
                           " within ±10 %";
  s += "<text x=\"" + f(left + 8) + "\" y=\"" + f(top + 18) + "\">" + xml_escape(caption) +
       "</text>\n";
  s += "</svg>\n";
  return s;
}

evaluation_files write_evaluation_report(const evaluation_report& r, const fs::path& dir,
                                         std::size_t worst) {
  std::error_code ec;
  fs::create_directories(dir / "plots", ec);
  if (ec || !fs::is_directory(dir / "plots"))
    throw nnmeter::error(dir.string() + ": cannot create the report folder" +
                         (ec ? " (" + ec.message() + ")" : std::string()));
  evaluation_files out;
  std::vector<std::pair<std::string, std::string>> plots;
  auto plot = [&](const std::string& title, const std::string& stem,
                  const std::vector<const model_evaluation*>& ms_) {
    std::vector<std::pair<double, double>> pts;
    for (const model_evaluation* m : ms_)
      if (m->outcome == model_outcome::evaluated)
        pts.emplace_back(m->measured_ms, m->prediction.latency_ms);
    const fs::path file = dir / "plots" / (stem + ".svg");
    write_file_atomically(file, scatter_plot_svg(title, pts));
    out.plots.push_back(file);
    plots.emplace_back(title, "plots/" + stem + ".svg");
  };
  std::vector<const model_evaluation*> all;
  for (const model_evaluation& m : r.models) all.push_back(&m);
  plot("all models", "all", all);
  std::map<std::string, int> stems;
  for (const accuracy_figures& fam : r.families) {
    std::vector<const model_evaluation*> ms_;
    for (const model_evaluation& m : r.models)
      if (m.family == fam.group) ms_.push_back(&m);
    // Distinct files even for families whose names map to one stem (or to "all").
    std::string stem = "family_" + file_stem(fam.group);
    if (const int n = stems[stem]++; n != 0) stem += "_" + std::to_string(n + 1);
    plot(fam.group, stem, ms_);
  }
  out.markdown = dir / "report.md";
  out.models_csv = dir / "models.csv";
  out.kernels_csv = dir / "kernels.csv";
  out.json = dir / "report.json";
  write_file_atomically(out.markdown, markdown(r, worst, plots));
  write_file_atomically(out.models_csv, models_csv(r));
  write_file_atomically(out.kernels_csv, kernels_csv(r));
  write_file_atomically(out.json, report_json(r));
  return out;
}

}  // namespace nnmeter::builder
