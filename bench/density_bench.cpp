// uvm-bench density: a fleet of N LCOW VMs created, started, held and
// closed in one engine through the asynchronous API, with a bounded number
// of calls in flight; the process's memory, threads and descriptors at the
// peak and after each round.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <iostream>
#include <mutex>

#include <nlohmann/json.hpp>

#include "actors/core/logging.hpp"
#include "bench/bench_util.hpp"
#include "bench/benches.hpp"
#include "bench/core/process_stats.hpp"
#include "engine/engine.hpp"

namespace uvm::bench {

namespace {

// Runs `count` asynchronous calls with at most `window` in flight; `issue(i,
// done)` starts call i and must call `done(ok)` exactly once.
class windowed_run {
public:
  using issue_fn = std::function<void(size_t, std::function<void(bool)>)>;

  windowed_run(size_t count, size_t window, std::string phase, bool progress)
      : count_(count), window_(window), phase_(std::move(phase)), progress_(progress) {}

  void run(const issue_fn& issue) {
    t0_ = clock_type::now();
    std::unique_lock<std::mutex> lock{m_};
    while (next_ < count_ || in_flight_ > 0) {
      while (next_ < count_ && in_flight_ < window_) {
        auto i = next_++;
        ++in_flight_;
        auto start = clock_type::now();
        lock.unlock();
        issue(i, [this, start](bool ok) { finished(start, ok); });
        lock.lock();
      }
      cv_.wait_for(lock, std::chrono::milliseconds(200), [&] {
        return (next_ < count_ && in_flight_ < window_) || (next_ == count_ && in_flight_ == 0);
      });
      show(false);
    }
    seconds_ = seconds_since(t0_);
    show(true);
  }

  nlohmann::json report() const {
    return {{"calls", count_},
            {"errors", errors_},
            {"seconds", seconds_},
            {"per_s", seconds_ > 0 ? static_cast<double>(count_) / seconds_ : 0.0},
            {"p50_ms", percentile(latency_ms_, 0.5)},
            {"p99_ms", percentile(latency_ms_, 0.99)}};
  }
  size_t errors() const { return errors_; }

private:
  void finished(clock_type::time_point start, bool ok) {
    auto ms = seconds_since(start) * 1000;
    std::lock_guard<std::mutex> lock{m_};
    latency_ms_.push_back(ms);
    errors_ += ok ? 0 : 1;
    --in_flight_;
    ++done_;
    cv_.notify_all();
  }

  // A progress line on a terminal, at most a few times a second.
  void show(bool last) {
    if (!progress_) {
      return;
    }
    auto now = clock_type::now();
    if (!last && now - shown_ < std::chrono::milliseconds(200)) {
      return;
    }
    shown_ = now;
    std::fprintf(stderr, "\r%-6s %zu/%zu done, %zu errors, %.1f s%s", phase_.c_str(), done_, count_,
                 errors_, seconds_since(t0_), last ? "\n" : "");
    std::fflush(stderr);
  }

  size_t count_;
  size_t window_;
  std::string phase_;
  bool progress_;
  std::mutex m_;
  std::condition_variable cv_;
  size_t next_ = 0;
  size_t in_flight_ = 0;
  size_t done_ = 0;
  size_t errors_ = 0;
  std::vector<double> latency_ms_;
  clock_type::time_point t0_;
  clock_type::time_point shown_;
  double seconds_ = 0;
};

nlohmann::json sample_json(const process_sample& s, const process_sample& base, size_t vms) {
  auto grown = s.rss_bytes > base.rss_bytes ? s.rss_bytes - base.rss_bytes : 0;
  return {{"rss_mb", static_cast<double>(s.rss_bytes) / (1 << 20)},
          {"rss_per_vm_kb", vms > 0 ? static_cast<double>(grown) / 1024 / vms : 0.0},
          {"threads", s.threads},
          {"fds", s.fds}};
}

// glibc's allocator settings the run had: under glibc's malloc they move
// round 1's create rate (jemalloc ignores them).
std::string glibc_tunables() {
  const char* t = std::getenv("GLIBC_TUNABLES");
  return t != nullptr ? t : "";
}

} // namespace

int density(const density_options& o) {
  boot_files boot;
  // A line per VM and phase would be the bench's own cost: warnings only.
  logging::init(logging::format::human, logging::level::warn);
  uvm::engine_config cfg;
  cfg.host = uvm::detect_host();
  cfg.io_threads = o.io_threads;
  cfg.scheduler_policy = o.scheduler;
  cfg.moderate_sleep = std::chrono::microseconds{o.moderate_sleep_us};
  cfg.sim_inline_completions = o.sim_inline;
  uvm::engine eng{cfg};
  bool progress = ::isatty(STDERR_FILENO) != 0;
  auto n = static_cast<size_t>(o.vms);
  auto w = static_cast<size_t>(o.window);
  auto before = sample_process();
  nlohmann::json out = {{"bench", "density"},
                        {"vms", o.vms},
                        {"window", o.window},
                        {"hold_s", o.hold_s},
                        {"io_threads", o.io_threads},
                        {"scheduler", o.scheduler},
                        {"sim_inline_completions", o.sim_inline},
                        {"descriptor_limit", eng.descriptors().now},
                        {"allocator", allocator_name()},
                        {"glibc_tunables", glibc_tunables()},
                        {"before", sample_json(before, before, 0)}};
  size_t errors = 0;
  for (int round = 1; round <= o.rounds; ++round) {
    std::vector<uvm::utility_vm> handles(n);
    std::vector<char> created(n, 0); // written from the callbacks: no vector<bool>
    windowed_run create_run{n, w, "create", progress};
    create_run.run([&](size_t i, std::function<void(bool)> done) {
      auto o = uvm::new_default_options_lcow("", "uvm-bench", cfg.host,
                                             [](const std::string& p) { return fs::exists(p); });
      o.boot_files_path = boot.dir.string();
      eng.create_lcow(std::move(o), {}, [&, i, done](uvm::result<uvm::utility_vm> vm) {
        if (vm) {
          handles[i] = *vm;
          created[i] = 1;
        }
        done(static_cast<bool>(vm));
      });
    });
    windowed_run start_run{n, w, "start", progress};
    start_run.run([&](size_t i, std::function<void(bool)> done) {
      if (!created[i]) {
        done(false);
        return;
      }
      handles[i].start([done](const uvm::error& e) { done(!e); });
    });
    // While the fleet is up: a stats call on every VM, and a SCSI disk
    // mounted in the guest (a bridge RPC) on every 100th.
    windowed_run hold_run{n, w, "hold", progress};
    hold_run.run([&](size_t i, std::function<void(bool)> done) {
      if (!created[i]) {
        done(false);
        return;
      }
      if (i % 100 != 0) {
        handles[i].request_async<uvm::vm_stats>(
            [done](uvm::result<uvm::vm_stats> r) { done(static_cast<bool>(r)); }, uvm::stats_atom_v,
            std::string{});
        return;
      }
      scsi_add_request req;
      req.host_path = "/bench/disk-" + std::to_string(i) + ".vhdx";
      req.uvm_path = "/run/mounts/m" + std::to_string(i);
      handles[i].add_scsi(std::move(req),
                          [done](uvm::result<uvm::scsi_mount> r) { done(static_cast<bool>(r)); });
    });
    auto peak = sample_process();
    std::this_thread::sleep_for(std::chrono::duration<double>(o.hold_s));
    windowed_run close_run{n, w, "close", progress};
    close_run.run([&](size_t i, std::function<void(bool)> done) {
      if (!created[i]) {
        done(false);
        return;
      }
      handles[i].close([done](const uvm::error& e) { done(!e); });
    });
    handles.clear();
    auto after = sample_process();
    errors += create_run.errors() + start_run.errors() + hold_run.errors() + close_run.errors();
    out["round" + std::to_string(round)] = {{"create", create_run.report()},
                                            {"start", start_run.report()},
                                            {"hold", hold_run.report()},
                                            {"close", close_run.report()},
                                            {"peak", sample_json(peak, before, n)},
                                            {"after", sample_json(after, before, n)}};
  }
  out["errors"] = errors;
  std::cout << (o.json ? out.dump() : out.dump(2)) << std::endl;
  return errors == 0 ? 0 : 1;
}

} // namespace uvm::bench
