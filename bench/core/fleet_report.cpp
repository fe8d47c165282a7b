#include "bench/core/fleet_report.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "bench/core/latency_histogram.hpp"

namespace uvm::bench {

namespace {

namespace fs = std::filesystem;

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '&':
      out += "&amp;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  }
  return out + "'";
}

std::string read_all(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

double num(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0;
}

// The percentiles of the distribution plot: x = 1/(1-q), as HdrHistogram's.
constexpr double distribution_points[] = {0,  10,   25,   50,    75,    90,     95,
                                          99, 99.5, 99.9, 99.95, 99.99, 99.995, 99.999};

void write_data(const fs::path& dir, const nlohmann::json& summary,
                const std::vector<nlohmann::json>& lines, std::vector<std::string>& ops_seen) {
  std::ofstream ts{dir / "timeseries.dat"};
  ts << "# t_s target_rate achieved_rate p50 p90 p99 p999 max rss_mb threads fds errors injected "
        "in_flight\n";
  for (const auto& l : lines) {
    const auto& a = l["all"];
    const auto& p = l["process"];
    ts << num(l, "t_s") << " " << num(l, "target_rate") << " " << num(l, "achieved_rate") << " "
       << num(a, "p50_ms") << " " << num(a, "p90_ms") << " " << num(a, "p99_ms") << " "
       << num(a, "p999_ms") << " " << num(a, "max_ms") << " " << num(p, "rss_bytes") / 1048576.0
       << " " << num(p, "threads") << " " << num(p, "fds") << " " << num(a, "errors") << " "
       << num(a, "injected") << " " << num(l, "in_flight") << "\n";
  }
  for (const auto& [op, tally] : summary["ops"].items()) {
    ops_seen.push_back(op);
    auto h = latency_histogram::from_json(tally["histogram"]);
    std::ofstream d{dir / ("dist-" + op + ".dat")};
    d << "# percentile x=1/(1-q) latency_ms\n";
    for (double q : distribution_points) {
      d << q << " " << 1.0 / (1.0 - q / 100.0) << " " << static_cast<double>(h.percentile(q)) / 1e6
        << "\n";
    }
    std::ofstream e{dir / ("errors-" + op + ".dat")};
    e << "# t_s errors injected count\n";
    for (const auto& l : lines) {
      const auto& o = l["ops"];
      if (o.contains(op)) {
        e << num(l, "t_s") << " " << num(o[op], "errors") << " " << num(o[op], "injected") << " "
          << num(o[op], "count") << "\n";
      } else {
        e << num(l, "t_s") << " 0 0 0\n";
      }
    }
  }
  if (summary.contains("capacity")) {
    std::ofstream c{dir / "capacity.dat"};
    c << "# rate achieved p99_ms pass\n";
    for (const auto& s : summary["capacity"]["steps"]) {
      c << num(s, "rate") << " " << num(s, "achieved_rate") << " " << num(s, "p99_ms") << " "
        << (s["pass"].get<bool>() ? 1 : 0) << "\n";
    }
  }
}

std::string gnuplot_script(const nlohmann::json& summary, const std::vector<std::string>& ops) {
  std::ostringstream g;
  g << "set terminal pngcairo noenhanced size 900,420 font 'sans,10'\n"
       "set grid\nset key outside right top\n"
       "set output 'throughput.png'\n"
       "set title 'Throughput: target vs achieved (completions per interval)'\n"
       "set xlabel 'time (s)'\nset ylabel 'operations / s'\n"
       "plot 'timeseries.dat' u 1:2 w steps lw 2 t 'target', "
       "'' u 1:3 w linespoints pt 7 ps 0.5 t 'achieved'\n"
       "set output 'latency.png'\n"
       "set title 'Latency percentiles per interval (all operations, from intended start)'\n"
       "set ylabel 'latency (ms)'\nset logscale y\n"
       "plot 'timeseries.dat' u 1:4 w lp pt 7 ps 0.4 t 'p50', '' u 1:5 w lp pt 7 ps 0.4 t 'p90', "
       "'' u 1:6 w lp pt 7 ps 0.4 t 'p99', '' u 1:7 w lp pt 7 ps 0.4 t 'p99.9', "
       "'' u 1:8 w lp pt 7 ps 0.4 t 'max'\n"
       "unset logscale y\n"
       "set output 'distribution.png'\n"
       "set title 'Latency distribution per operation (whole run)'\n"
       "set xlabel 'percentile'\nset logscale x\nset logscale y\n"
       "set xtics ('0' 1, '90' 10, '99' 100, '99.9' 1000, '99.99' 10000, '99.999' 100000)\n"
       "plot ";
  for (size_t i = 0; i < ops.size(); ++i) {
    g << (i ? ", " : "") << "'dist-" << ops[i] << ".dat' u 2:3 w lp pt 7 ps 0.5 t '" << ops[i]
      << "'";
  }
  g << "\nunset logscale x\nunset logscale y\nset xtics autofreq\n"
       "set output 'process.png'\n"
       "set title 'The load generator process (uvm-bench): memory, threads, descriptors'\n"
       "set xlabel 'time (s)'\nset ylabel 'RSS (MiB)'\nset y2label 'count'\n"
       "set ytics nomirror\nset y2tics\n"
       "plot 'timeseries.dat' u 1:9 w l lw 2 t 'RSS MiB', '' u 1:10 w l axes x1y2 t 'threads', "
       "'' u 1:11 w l axes x1y2 t 'fds'\n"
       "unset y2label\nunset y2tics\nset ytics mirror\n"
       "set output 'errors.png'\n"
       "set title 'Errors (unexpected) and injected failures per interval'\n"
       "set ylabel 'per interval'\nset yrange [0:*]\n"
       "plot 'timeseries.dat' u 1:12 w steps lw 2 t 'errors (all ops)', "
       "'' u 1:13 w steps t 'injected (all ops)'";
  for (const auto& op : ops) {
    g << ", 'errors-" << op << ".dat' u 1:2 w l dt 2 t 'errors " << op << "'";
  }
  g << "\nset autoscale y\n";
  if (summary.contains("capacity")) {
    g << "set output 'capacity.png'\n"
         "set title 'Capacity ramp: p99 per step against the objective'\n"
         "set xlabel 'target rate (op/s)'\nset ylabel 'p99 (ms)'\nset logscale y\n"
         "plot 'capacity.dat' u 1:3 w lp pt 7 ps 1 lw 2 t 'p99', "
      << num(summary["capacity"], "objective_p99_ms") << " w l dt 2 lw 2 t 'objective'\n";
  }
  return g.str();
}

std::string ops_table(const nlohmann::json& ops) {
  std::ostringstream t;
  t << "<table><tr><th>operation</th><th>count</th><th>ok</th><th>injected</th><th>errors</th>"
       "<th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th>"
       "<th>first error</th></tr>\n";
  char buf[64];
  for (const auto& [op, s] : ops.items()) {
    t << "<tr><td>" << html_escape(op) << "</td><td>" << s["count"] << "</td><td>" << s["ok"]
      << "</td><td>" << s["injected"] << "</td><td>" << s["errors"] << "</td>";
    for (const char* k : {"p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms"}) {
      std::snprintf(buf, sizeof buf, "%.3f", num(s, k));
      t << "<td>" << buf << "</td>";
    }
    t << "<td>" << html_escape(s.value("first_error", "")) << "</td></tr>\n";
  }
  t << "</table>\n";
  return t.str();
}

} // namespace

std::vector<nlohmann::json> read_raw_lines(const std::string& path) {
  std::ifstream in{path};
  if (!in) {
    throw std::invalid_argument("cannot read " + path);
  }
  std::vector<nlohmann::json> out;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) {
      continue;
    }
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      throw std::invalid_argument(path + ":" + std::to_string(n) + ": not a JSON object");
    }
    out.push_back(std::move(j));
  }
  return out;
}

std::string base64(const std::string& bytes) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                 (static_cast<uint8_t>(bytes[i + 1]) << 8) | static_cast<uint8_t>(bytes[i + 2]);
    for (int s : {18, 12, 6, 0}) {
      out += alphabet[(v >> s) & 63];
    }
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) {
      v |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    }
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string write_fleet_report(const std::string& dir_name) {
  fs::path dir{dir_name};
  nlohmann::json summary;
  std::vector<nlohmann::json> lines;
  try {
    summary = nlohmann::json::parse(read_all(dir / "summary.json"));
    lines = read_raw_lines((dir / "raw.jsonl").string());
  } catch (const std::exception& e) {
    return e.what();
  }
  auto plots = dir / "plots";
  std::error_code ec;
  fs::create_directories(plots, ec);
  if (ec) {
    return "cannot create " + plots.string() + ": " + ec.message();
  }
  std::vector<std::string> ops;
  try {
    write_data(plots, summary, lines, ops);
  } catch (const std::exception& e) {
    return e.what();
  }
  std::ofstream(plots / "plots.gp") << gnuplot_script(summary, ops);
  auto cmd = "cd " + shell_quote(plots.string()) + " && gnuplot plots.gp 2> gnuplot.log";
  if (std::system(cmd.c_str()) != 0) {
    return "gnuplot failed: see " + (plots / "gnuplot.log").string();
  }
  std::vector<std::pair<std::string, std::string>> figures{
      {"throughput.png", "Throughput"},
      {"latency.png", "Latency percentiles over time"},
      {"distribution.png", "Latency distribution per operation"},
      {"process.png", "Memory, threads and descriptors of uvm-bench"},
      {"errors.png", "Errors"}};
  if (summary.contains("capacity")) {
    figures.emplace_back("capacity.png", "Capacity ramp");
  }
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>uvm-bench fleet: "
    << html_escape(summary.value("profile", "")) << "</title>\n<style>body{font-family:sans-serif;"
    << "margin:2em}table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:3px 8px;"
    << "text-align:right}img{max-width:100%}</style></head><body>\n";
  h << "<h1>Fleet run: " << html_escape(summary.value("profile", "")) << "</h1>\n<p>"
    << html_escape(summary.value("description", "")) << "</p>\n<table>\n";
  for (const char* k : {"nodes", "arrival", "target_rate", "seconds", "run_seconds", "vms_per_node",
                        "backend", "issued", "completed", "unfinished", "achieved_rate",
                        "generator_lag_max_ms", "bring_up_s", "process_peak", "stalls"}) {
    if (summary.contains(k)) {
      h << "<tr><th>" << k << "</th><td>" << html_escape(summary[k].dump()) << "</td></tr>\n";
    }
  }
  h << "</table>\n<h2>Operations (latency from each request's intended start)</h2>\n";
  nlohmann::json with_all = summary["ops"];
  with_all["(all)"] = summary["all"];
  h << ops_table(with_all);
  if (summary.contains("per_node") && summary["per_node"].size() > 1) {
    for (const auto& [node, ops_of_node] : summary["per_node"].items()) {
      h << "<h3>Node " << html_escape(node) << "</h3>\n" << ops_table(ops_of_node);
    }
  }
  if (summary.contains("capacity")) {
    const auto& c = summary["capacity"];
    h << "<h2>Capacity at p99 &le; " << num(c, "objective_p99_ms")
      << " ms: " << num(c, "capacity_ops_per_s")
      << " op/s</h2>\n<table><tr><th>rate</th><th>achieved</th>"
      << "<th>p99 ms</th><th>errors</th><th>pass</th></tr>\n";
    for (const auto& s : c["steps"]) {
      h << "<tr><td>" << num(s, "rate") << "</td><td>" << num(s, "achieved_rate") << "</td><td>"
        << num(s, "p99_ms") << "</td><td>" << s["errors"] << "</td><td>" << s["pass"]
        << "</td></tr>\n";
    }
    h << "</table>\n";
  }
  for (const auto& [file, title] : figures) {
    auto png = read_all(plots / file);
    if (png.empty()) {
      return "gnuplot wrote no " + file;
    }
    h << "<h2>" << title << "</h2>\n<img alt=\"" << title << "\" src=\"data:image/png;base64,"
      << base64(png) << "\">\n";
  }
  h << "<p>Raw intervals: raw.jsonl (" << lines.size()
    << " lines); plot data and scripts: plots/.</p>\n</body></html>\n";
  std::ofstream(dir / "report.html") << h.str();
  return {};
}

} // namespace uvm::bench
