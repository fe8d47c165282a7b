// uvm-bench hotplug: SCSI add/remove loops of G callers on one VM.
#include <atomic>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "bench/bench_util.hpp"
#include "bench/benches.hpp"
#include "bench/core/process_stats.hpp"
#include "engine/engine.hpp"

namespace uvm::bench {

struct hotplug_stats {
  std::mutex m;
  std::vector<double> add_us;
  std::vector<double> release_us;
  uint64_t ops = 0;
  uint64_t errors = 0;
  std::string first_error;
};

// One caller: add its disk, remove it, again, until the deadline. `Target`
// is the VM (which routes each call to its SCSI child) or the SCSI child.
template <class Target>
caf::behavior hotplug_caller(caf::event_based_actor* self, Target target, std::string disk,
                             clock_type::time_point deadline, std::shared_ptr<hotplug_stats> stats,
                             latch* done) {
  // One completed call: its latency goes to `into` (none for a failure).
  auto record = [stats](std::vector<double> hotplug_stats::*into, double us, bool ok,
                        const caf::error* e) {
    std::lock_guard<std::mutex> lock{stats->m};
    if (ok) {
      ((*stats).*into).push_back(us);
    }
    if (ok) {
      ++stats->ops;
    } else {
      ++stats->errors;
      if (stats->first_error.empty() && e != nullptr) {
        stats->first_error = uvm::from_caf_error(*e).text;
      }
    }
  };
  auto step = std::make_shared<std::function<void()>>();
  *step = [=] {
    if (clock_type::now() >= deadline) {
      done->count_down();
      self->quit();
      return;
    }
    uvm::scsi_add_request req;
    req.host_path = disk;
    auto t0 = clock_type::now();
    self->request(target, caf::infinite, uvm::add_scsi_atom_v, req)
        .then(
            [=](uvm::scsi_mount&) {
              auto t1 = clock_type::now();
              record(&hotplug_stats::add_us, seconds_between(t0, t1) * 1e6, true, nullptr);
              self->request(target, caf::infinite, uvm::remove_scsi_atom_v, disk, std::string{})
                  .then(
                      [=](caf::ok_atom) {
                        record(&hotplug_stats::release_us, seconds_since(t1) * 1e6, true, nullptr);
                        (*step)();
                      },
                      [=](caf::error& e) {
                        record(&hotplug_stats::release_us, 0, false, &e);
                        (*step)();
                      });
            },
            [=](caf::error& e) {
              record(&hotplug_stats::add_us, 0, false, &e);
              (*step)();
            });
  };
  (*step)();
  return {[](caf::ok_atom) {}};
}

int hotplug(int latency_us, int callers, double seconds, bool json, const std::string& policy,
            int moderate_sleep_us, int threads, const std::string& guest, bool via_vm,
            bool metrics) {
  // With a latency, the anchor first: what the simulator's timers alone
  // allow these callers, on this machine, now.
  std::optional<timer_floor> floor;
  if (latency_us > 0) {
    floor = measure_timer_floor(std::chrono::microseconds{latency_us}, callers, seconds);
  }
  boot_files boot;
  uvm::engine_config cfg;
  cfg.host = uvm::detect_host();
  cfg.scheduler_policy = policy;
  cfg.moderate_sleep = std::chrono::microseconds{moderate_sleep_us};
  cfg.scheduler_threads = threads;
  cfg.sim_inline_completions = true;
  cfg.guest = guest;
  cfg.metrics = metrics;
  uvm::engine eng{cfg};
  auto o = uvm::new_default_options_lcow("hotplug", "uvm-bench", cfg.host,
                                         [](const std::string& p) { return fs::exists(p); });
  o.boot_files_path = boot.dir.string();
  // Up to 4 controllers so that 256 callers fit.
  o.scsi_controller_count = static_cast<uint32_t>(std::min(4, (callers + 63) / 64));
  auto vm = eng.create_lcow(o);
  if (!vm) {
    std::cerr << "hotplug: could not create the VM: " << vm.err().text << "\n";
    return 1;
  }
  if (auto e = vm->start()) {
    std::cerr << "hotplug: could not start the VM: " << e.text << "\n";
    return 1;
  }
  auto devices = vm->devices();
  if (!devices) {
    std::cerr << "hotplug: " << devices.err().text << "\n";
    return 1;
  }
  auto lat = std::chrono::microseconds{latency_us};
  eng.sim().set_latency(uvm::hcs::call_kind::modify, lat, lat);
  auto stats = std::make_shared<hotplug_stats>();
  latch done(static_cast<size_t>(callers));
  auto t0 = clock_type::now();
  auto deadline =
      t0 + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
  for (int i = 0; i < callers; ++i) {
    auto disk = "/bench/disk-" + std::to_string(i) + ".vhdx";
    if (via_vm) {
      eng.system().spawn(hotplug_caller<uvm::utility_vm_actor>, vm->actor(), disk, deadline, stats,
                         &done);
    } else {
      eng.system().spawn(hotplug_caller<uvm::scsi_actor>, devices->scsi, disk, deadline, stats,
                         &done);
    }
  }
  done.wait();
  auto elapsed = seconds_since(t0);
  (void)vm->close();
  std::lock_guard<std::mutex> lock{stats->m};
  nlohmann::json out = {{"bench", "hotplug"},
                        {"latency_us", latency_us},
                        {"callers", callers},
                        {"scheduler_threads", threads},
                        {"guest", guest},
                        {"calls_to", via_vm ? "vm" : "scsi_controller"},
                        {"metrics", metrics},
                        {"allocator", allocator_name()},
                        {"sim_inline_completions", cfg.sim_inline_completions},
                        {"seconds", elapsed},
                        {"ops", stats->ops},
                        {"errors", stats->errors},
                        {"ops_per_s", static_cast<double>(stats->ops) / elapsed},
                        {"add_p50_us", percentile(stats->add_us, 0.5)},
                        {"add_p99_us", percentile(stats->add_us, 0.99)},
                        {"release_p50_us", percentile(stats->release_us, 0.5)},
                        {"release_p99_us", percentile(stats->release_us, 0.99)}};
  if (floor) {
    out["timer_floor"] = {{"ops_per_s", floor->ops_per_s}, {"mean_late_us", floor->mean_late_us}};
    out["of_timer_floor"] = out["ops_per_s"].get<double>() / floor->ops_per_s;
  }
  if (!stats->first_error.empty()) {
    out["first_error"] = stats->first_error;
  }
  std::cout << (json ? out.dump() : out.dump(2)) << std::endl;
  return stats->errors == 0 ? 0 : 1;
}

} // namespace uvm::bench
