// uvm-bench fleet: a fleet under open-loop load. Arrivals come at the
// target rate (constant or Poisson) whatever the answers to earlier ones;
// each request's latency counts from its intended start, so a slow or
// stalled target cannot hide the requests it made wait. Every interval
// appends one JSON line to DIR/raw.jsonl; the end writes summary.json and
// report.html (bench/core/fleet_report.hpp).
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "actors/core/logging.hpp"
#include "bench/bench_util.hpp"
#include "bench/benches.hpp"
#include "bench/core/fleet_recorder.hpp"
#include "bench/core/fleet_report.hpp"
#include "bench/core/process_stats.hpp"
#include "bench/fleet_ops.hpp"

namespace uvm::bench {

namespace {

using nanos = std::chrono::nanoseconds;

uint64_t ns_since(clock_type::time_point t) {
  auto d = clock_type::now() - t;
  return d.count() < 0 ? 0 : static_cast<uint64_t>(std::chrono::duration_cast<nanos>(d).count());
}

// One request of the per-request log (--request-log).
struct request_record {
  fleet_op op;
  size_t node;
  double intended_s;
  uint64_t latency_ns;
  outcome result;
};

struct stall_record {
  double at_s;
  double start_s = -1;
  double end_s = -1;
};

class fleet_run {
public:
  fleet_run(const fleet_options& o, const fleet_profile& p, std::vector<fleet_target>& targets,
            const std::string& boot_files)
      : o_(o), p_(p), targets_(targets), runner_(2), ops_(p, boot_files, runner_),
        recorder_(targets.size()), raw_(o.out_dir + "/raw.jsonl"),
        progress_(::isatty(STDERR_FILENO) == 1), rng_(o.seed) {
    for (const auto& [op, w] : p.weights) {
      ops_in_mix_.push_back(op);
      weights_.push_back(w);
    }
    pick_ = std::discrete_distribution<size_t>(weights_.begin(), weights_.end());
  }

  // Creates and starts the held VMs on every target; false on a failure.
  bool bring_up() {
    auto t0 = clock_type::now();
    if (p_.backend == "sim") {
      ops_.make_layers();
    }
    for (auto& t : targets_) {
      if (auto e = ops_.apply_sim_latency(t)) {
        std::cerr << "fleet: " << t.name << ": simulator latency: " << e.text << "\n";
        return false;
      }
      std::mutex m;
      std::condition_variable cv;
      size_t in_flight = 0;
      size_t done = 0;
      std::string first_error;
      std::vector<utility_vm> pool;
      for (uint32_t i = 0; i < o_.vms; ++i) {
        std::unique_lock<std::mutex> lock{m};
        cv.wait(lock, [&] { return in_flight < p_.create_window; });
        ++in_flight;
        lock.unlock();
        ops_.create_and_start(t,
                              "fleet-held-" + std::to_string(::getpid()) + "-" + std::to_string(i),
                              [&](result<utility_vm> r) {
                                std::lock_guard<std::mutex> g{m};
                                if (r) {
                                  pool.push_back(*r);
                                } else if (first_error.empty()) {
                                  first_error = r.err().text;
                                }
                                --in_flight;
                                ++done;
                                cv.notify_all();
                              });
        if (progress_ && i % 1000 == 0) {
          std::cerr << "\r" << t.name << ": " << i << "/" << o_.vms << " VMs up" << std::flush;
        }
      }
      std::unique_lock<std::mutex> lock{m};
      cv.wait(lock, [&] { return done == o_.vms; });
      if (!first_error.empty()) {
        std::cerr << "\nfleet: " << t.name << ": a held VM failed: " << first_error << "\n";
        t.pool = std::move(pool);
        return false;
      }
      t.pool = std::move(pool);
    }
    bring_up_s_ = seconds_since(t0);
    if (progress_) {
      std::cerr << "\r\033[K";
    }
    return true;
  }

  // Open-loop load at `rate` for `seconds`, then waits for the answers
  // (at most `drain_s`). Intervals are tagged with `step`.
  void run_step(double rate, double seconds, int step) {
    recorder_.reset_step();
    auto t0 = clock_type::now();
    if (!started_) {
      started_ = true;
      run_t0_ = t0;
    }
    step_t0_ = t0;
    target_rate_ = rate;
    step_ = step;
    auto end = std::chrono::duration_cast<nanos>(std::chrono::duration<double>(seconds));
    std::atomic<bool> generating{true};
    std::thread stalls;
    if (step == 0 && !p_.stalls.empty()) {
      stalls = std::thread([this, t0] { run_stalls(t0); });
    }
    std::thread generator([&] {
      arrival_schedule schedule{p_.arrival, rate, o_.seed + static_cast<uint64_t>(step)};
      std::uniform_int_distribution<size_t> vm_pick;
      size_t round = 0;
      for (;;) {
        auto offset = schedule.next();
        if (offset >= end) {
          break;
        }
        auto due = t0 + offset;
        if (due > clock_type::now()) {
          std::this_thread::sleep_until(due);
        }
        auto lag = ns_since(due);
        if (lag > lag_max_ns_) {
          lag_max_ns_ = lag;
        }
        auto op = ops_in_mix_[pick_(rng_)];
        auto node = round++ % targets_.size();
        issue(op, node, due, vm_pick(rng_));
      }
      generating = false;
    });
    auto interval = std::chrono::milliseconds{o_.interval_ms};
    auto next_tick = t0 + interval;
    auto drain_deadline = clock_type::time_point::max();
    for (;;) {
      std::this_thread::sleep_until(next_tick);
      next_tick += interval;
      // Judged before the interval closes, so that the last interval holds
      // every completion.
      bool finished =
          !generating && (recorder_.in_flight() == 0 || clock_type::now() > drain_deadline);
      write_interval(seconds_between(prev_tick_or(t0), clock_type::now()));
      if (finished) {
        break;
      }
      if (!generating && drain_deadline == clock_type::time_point::max()) {
        drain_deadline = clock_type::now() + std::chrono::seconds{30};
      }
    }
    generator.join();
    if (stalls.joinable()) {
      stalls.join();
    }
    step_seconds_ = seconds_between(t0, clock_type::now());
    if (progress_) {
      std::cerr << "\r\033[K" << std::flush;
    }
  }

  nlohmann::json step_result(double rate, double p99_ms_objective) {
    auto all = merge_ops(merge_nodes(recorder_.step_totals()));
    double p99 = static_cast<double>(all.latency.percentile(99)) / 1e6;
    bool pass = p99 <= p99_ms_objective && all.errors == 0;
    return {{"rate", rate},
            {"completed", all.count()},
            {"achieved_rate", static_cast<double>(all.count()) / step_seconds_},
            {"p99_ms", p99},
            {"max_ms", static_cast<double>(all.latency.max()) / 1e6},
            {"errors", all.errors},
            {"pass", pass}};
  }

  // Closes the held VMs (a node keeps them otherwise).
  void bring_down() {
    for (auto& t : targets_) {
      latch done{t.pool.size()};
      for (auto& vm : t.pool) {
        vm.close([&done](const error&) { done.count_down(); });
      }
      if (!t.pool.empty()) {
        done.wait();
      }
      t.pool.clear();
    }
  }

  nlohmann::json summary() const {
    auto per_node = recorder_.totals();
    auto ops = merge_nodes(per_node);
    auto all = merge_ops(ops);
    nlohmann::json nodes = nlohmann::json::object();
    for (size_t i = 0; i < targets_.size(); ++i) {
      nodes[targets_[i].name] = ops_json(per_node[i], false);
    }
    nlohmann::json stalls = nlohmann::json::array();
    for (const auto& s : stall_log_) {
      stalls.push_back({{"at_s", s.at_s}, {"start_s", s.start_s}, {"end_s", s.end_s}});
    }
    return {{"issued", issued_},
            {"completed", all.count()},
            {"unfinished", recorder_.in_flight()},
            {"achieved_rate", static_cast<double>(all.count()) / std::max(1e-9, run_seconds())},
            {"generator_lag_max_ms", static_cast<double>(lag_max_ns_) / 1e6},
            {"bring_up_s", bring_up_s_},
            {"all", all.to_json(false)},
            {"ops", ops_json(ops, true)},
            {"per_node", nodes},
            {"process_peak",
             {{"rss_bytes", peak_.rss_bytes}, {"threads", peak_.threads}, {"fds", peak_.fds}}},
            {"stalls", stalls},
            {"intervals", intervals_}};
  }

  double run_seconds() const { return seconds_between(run_t0_, last_tick_); }

  void write_requests(const std::string& path) const {
    std::ofstream out{path};
    std::lock_guard<std::mutex> lock{requests_m_};
    for (const auto& r : requests_) {
      nlohmann::json j = {{"op", fleet_op_name(r.op)},
                          {"node", targets_[r.node].name},
                          {"intended_s", r.intended_s},
                          {"latency_ms", static_cast<double>(r.latency_ns) / 1e6},
                          {"outcome", r.result == outcome::ok         ? "ok"
                                      : r.result == outcome::injected ? "injected"
                                                                      : "error"}};
      out << j.dump() << "\n";
    }
  }

private:
  clock_type::time_point prev_tick_or(clock_type::time_point t0) const {
    return last_tick_ > t0 ? last_tick_ : t0;
  }

  void issue(fleet_op op, size_t node, clock_type::time_point due, size_t vm_pick) {
    recorder_.issued();
    ++issued_;
    auto done = [this, op, node, due](const error& e) {
      auto latency = ns_since(due);
      auto result = !e                          ? outcome::ok
                    : is_injected_fault(e.text) ? outcome::injected
                                                : outcome::error;
      recorder_.finished(node, op, latency, result, e.text);
      if (o_.request_log) {
        std::lock_guard<std::mutex> lock{requests_m_};
        requests_.push_back({op, node, seconds_between(run_t0_, due), latency, result});
      }
    };
    ops_.issue(op, targets_[node], vm_pick, std::move(done));
  }

  // Blocks the embedded engine's dispatcher for each stall of the profile.
  void run_stalls(clock_type::time_point t0) {
    for (const auto& s : p_.stalls) {
      std::this_thread::sleep_until(
          t0 + std::chrono::duration_cast<nanos>(std::chrono::duration<double>(s.at_s)));
      auto rec = std::make_shared<stall_record>();
      rec->at_s = s.at_s;
      latch stalled{1};
      auto ms = s.ms;
      auto base = run_t0_;
      targets_.front().eng->dispatch([rec, ms, base, &stalled](caf::event_based_actor*) {
        rec->start_s = seconds_since(base);
        std::this_thread::sleep_for(std::chrono::milliseconds{ms});
        rec->end_s = seconds_since(base);
        stalled.count_down();
      });
      stalled.wait();
      stall_log_.push_back(*rec);
    }
  }

  void write_interval(double interval_s) {
    auto now = clock_type::now();
    last_tick_ = now;
    auto iv = recorder_.take_interval();
    auto all = merge_ops(iv.by_op);
    auto ps = sample_process();
    peak_.rss_bytes = std::max(peak_.rss_bytes, ps.rss_bytes);
    peak_.threads = std::max(peak_.threads, ps.threads);
    peak_.fds = std::max(peak_.fds, ps.fds);
    nlohmann::json line = {{"t_s", seconds_between(run_t0_, now)},
                           {"interval_s", interval_s},
                           {"step", step_},
                           {"target_rate", target_rate_},
                           {"issued", iv.issued},
                           {"completed", all.count()},
                           {"achieved_rate", static_cast<double>(all.count()) / interval_s},
                           {"in_flight", iv.in_flight},
                           {"all", all.to_json(false)},
                           {"ops", ops_json(iv.by_op, true)},
                           {"process",
                            {{"rss_bytes", ps.rss_bytes},
                             {"heap_in_use_bytes", ps.heap_in_use_bytes},
                             {"threads", ps.threads},
                             {"fds", ps.fds}}}};
    raw_ << line.dump() << "\n" << std::flush;
    ++intervals_;
    if (progress_) {
      auto so_far = merge_ops(merge_nodes(recorder_.totals()));
      char buf[200];
      std::snprintf(buf, sizeof buf,
                    "\r\033[K[%6.1f s] step %d  rate %.0f/%.0f op/s  p99 %.2f ms (so far %.2f)  "
                    "errors %llu  in flight %llu",
                    seconds_between(step_t0_, now), step_,
                    static_cast<double>(all.count()) / interval_s, target_rate_,
                    static_cast<double>(all.latency.percentile(99)) / 1e6,
                    static_cast<double>(so_far.latency.percentile(99)) / 1e6,
                    static_cast<unsigned long long>(so_far.errors),
                    static_cast<unsigned long long>(iv.in_flight));
      std::cerr << buf << std::flush;
    }
  }

  const fleet_options& o_;
  const fleet_profile& p_;
  std::vector<fleet_target>& targets_;
  blocking_runner runner_;
  fleet_ops ops_;
  fleet_recorder recorder_;
  std::ofstream raw_;
  bool progress_;
  std::mt19937_64 rng_;
  std::vector<fleet_op> ops_in_mix_;
  std::vector<double> weights_;
  std::discrete_distribution<size_t> pick_;
  bool started_ = false;
  clock_type::time_point run_t0_;
  clock_type::time_point step_t0_;
  clock_type::time_point last_tick_;
  double target_rate_ = 0;
  int step_ = 0;
  double step_seconds_ = 0;
  double bring_up_s_ = 0;
  std::atomic<uint64_t> lag_max_ns_{0};
  uint64_t issued_ = 0;
  uint64_t intervals_ = 0;
  process_sample peak_;
  std::vector<stall_record> stall_log_;
  mutable std::mutex requests_m_;
  std::vector<request_record> requests_;
};

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  if (!in) {
    throw std::invalid_argument("cannot read " + path);
  }
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace

int fleet(const fleet_options& o) {
  fleet_profile p;
  try {
    p = parse_fleet_profile(read_file(o.profile));
  } catch (const std::exception& e) {
    std::cerr << "fleet: " << o.profile << ": " << e.what() << "\n";
    return 2;
  }
  logging::level level{};
  if (!logging::parse_level(o.log_level, level)) {
    std::cerr << "fleet: --log-level must be trace, debug, info, warn, error or off\n";
    return 2;
  }
  logging::init(logging::format::human, level);
  auto opts = o;
  if (opts.vms == 0) {
    opts.vms = p.vms;
  }
  double rate = opts.rate > 0 ? opts.rate : p.rate;
  std::error_code ec;
  fs::create_directories(opts.out_dir, ec);
  if (ec) {
    std::cerr << "fleet: cannot create " << opts.out_dir << ": " << ec.message() << "\n";
    return 2;
  }
  // The simulator boots nothing but CreateLCOW checks the boot files.
  std::unique_ptr<boot_files> stub;
  std::string boot = p.boot_files;
  if (p.backend == "sim" && boot.empty()) {
    stub = std::make_unique<boot_files>();
    boot = stub->dir.string();
  }
  std::vector<fleet_target> targets;
  if (opts.nodes.empty()) {
    engine_config cfg;
    cfg.host = detect_host();
    cfg.backend = p.backend;
    if (p.backend == "qemu" && boot.empty()) {
      boot = cfg.host.executable_dir + "/qemu/LinuxBootFiles";
    }
    targets.push_back({"embedded", std::make_unique<engine>(cfg), {}});
  }
  for (const auto& node : opts.nodes) {
    auto colon = node.rfind(':');
    if (colon == std::string::npos) {
      std::cerr << "fleet: --node must be HOST:PORT, not " << node << "\n";
      return 2;
    }
    int port = std::atoi(node.c_str() + colon + 1);
    if (port <= 0 || port > 65535) {
      std::cerr << "fleet: bad port in " << node << "\n";
      return 2;
    }
    auto eng = engine::connect(node.substr(0, colon), static_cast<uint16_t>(port), opts.tls);
    if (!eng) {
      std::cerr << "fleet: " << node << ": " << eng.err().text << "\n";
      return 1;
    }
    targets.push_back({node, std::move(*eng), {}});
  }
  int rc = 0;
  nlohmann::json summary;
  {
    fleet_run run{opts, p, targets, boot};
    if (!run.bring_up()) {
      run.bring_down();
      return 1;
    }
    nlohmann::json capacity;
    if (opts.find_capacity) {
      auto steps = nlohmann::json::array();
      double best = 0;
      int step = 0;
      for (double r = p.ramp.start_rate; r <= p.ramp.max_rate; r *= p.ramp.factor, ++step) {
        run.run_step(r, p.ramp.step_seconds, step);
        auto res = run.step_result(r, opts.p99_ms);
        steps.push_back(res);
        if (!res["pass"].get<bool>()) {
          break;
        }
        best = r;
      }
      capacity = {{"objective_p99_ms", opts.p99_ms},
                  {"step_seconds", p.ramp.step_seconds},
                  {"steps", steps},
                  {"capacity_ops_per_s", best}};
    } else {
      run.run_step(rate, opts.seconds, 0);
    }
    auto s = run.summary();
    run.bring_down();
    if (opts.request_log) {
      run.write_requests(opts.out_dir + "/requests.jsonl");
    }
    summary = {{"profile", p.name},
               {"profile_file", opts.profile},
               {"description", p.description},
               {"arrival", arrival_kind_name(p.arrival)},
               {"target_rate", opts.find_capacity ? 0.0 : rate},
               {"seconds", opts.find_capacity ? run.run_seconds() : opts.seconds},
               {"run_seconds", run.run_seconds()},
               {"interval_ms", opts.interval_ms},
               {"vms_per_node", opts.vms},
               {"backend", p.backend},
               {"seed", opts.seed},
               {"allocator", allocator_name()}};
    summary["nodes"] = nlohmann::json::array();
    for (const auto& t : targets) {
      summary["nodes"].push_back(t.name);
    }
    summary.update(s);
    if (!capacity.is_null()) {
      summary["capacity"] = capacity;
    }
    if (summary["all"]["errors"].get<uint64_t>() > 0 || summary["unfinished"].get<uint64_t>() > 0) {
      rc = 1;
    }
  }
  std::ofstream(opts.out_dir + "/summary.json") << summary.dump(2) << "\n";
  auto report = write_fleet_report(opts.out_dir);
  if (!report.empty()) {
    std::cerr << "fleet: report: " << report << "\n";
    rc = rc == 0 ? 1 : rc;
  }
  nlohmann::json brief = {{"out", opts.out_dir},
                          {"completed", summary["completed"]},
                          {"achieved_rate", summary["achieved_rate"]},
                          {"p99_ms", summary["all"]["p99_ms"]},
                          {"max_ms", summary["all"]["max_ms"]},
                          {"errors", summary["all"]["errors"]}};
  if (summary.contains("capacity")) {
    brief["capacity_ops_per_s"] = summary["capacity"]["capacity_ops_per_s"];
  }
  std::cout << (opts.json ? brief.dump() : brief.dump(2)) << std::endl;
  return rc;
}

} // namespace uvm::bench
