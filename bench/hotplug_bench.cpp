// uvm-bench hotplug: SCSI add/remove loops of G callers on one VM.
#include <atomic>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "bench/bench_util.hpp"
#include "bench/benches.hpp"
#include "bench/core/latency_histogram.hpp"
#include "bench/core/process_stats.hpp"
#include "engine/engine.hpp"

namespace uvm::bench {

// One caller's figures, written only by that caller and read once all
// callers are done (the latch orders the two): no lock and no growing
// vector inside the measured loop.
struct caller_stats {
  latency_histogram add_ns;
  latency_histogram release_ns;
  uint64_t ops = 0;
  uint64_t errors = 0;
  std::string first_error;

  // One completed call: its latency goes to `into` (none for a failure).
  void record(latency_histogram& into, clock_type::duration took, const caf::error* e) {
    if (e == nullptr) {
      into.record(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(took).count()));
      ++ops;
      return;
    }
    ++errors;
    if (first_error.empty()) {
      first_error = uvm::from_caf_error(*e).text;
    }
  }
};

// One caller: add its disk, remove it, again, until the deadline. `Target`
// is the VM (which routes each call to its SCSI child) or the SCSI child.
// Its continuations capture only the actor, so that the loop measures the
// calls rather than copies of what they need.
template <class Target>
struct hotplug_caller_state {
  Target target;
  std::string disk;
  clock_type::time_point deadline;
  caller_stats* stats = nullptr;
  latch* done = nullptr;
  clock_type::time_point sent; // of the call in flight
};

template <class Target>
using hotplug_caller_actor = caf::stateful_actor<hotplug_caller_state<Target>>;

template <class Target>
void remove_disk(hotplug_caller_actor<Target>* self);

template <class Target>
void add_disk(hotplug_caller_actor<Target>* self) {
  auto& st = self->state;
  auto now = clock_type::now();
  if (now >= st.deadline) {
    st.done->count_down();
    self->quit();
    return;
  }
  uvm::scsi_add_request req;
  req.host_path = st.disk;
  st.sent = now;
  self->request(st.target, caf::infinite, uvm::add_scsi_atom_v, std::move(req))
      .then(
          [self](uvm::scsi_mount&) {
            auto& st = self->state;
            auto now = clock_type::now();
            st.stats->record(st.stats->add_ns, now - st.sent, nullptr);
            st.sent = now;
            remove_disk(self);
          },
          [self](caf::error& e) {
            self->state.stats->record(self->state.stats->add_ns, {}, &e);
            add_disk(self);
          });
}

template <class Target>
void remove_disk(hotplug_caller_actor<Target>* self) {
  auto& st = self->state;
  self->request(st.target, caf::infinite, uvm::remove_scsi_atom_v, st.disk, std::string{})
      .then(
          [self](caf::ok_atom) {
            auto& st = self->state;
            st.stats->record(st.stats->release_ns, clock_type::now() - st.sent, nullptr);
            add_disk(self);
          },
          [self](caf::error& e) {
            self->state.stats->record(self->state.stats->release_ns, {}, &e);
            add_disk(self);
          });
}

template <class Target>
caf::behavior hotplug_caller(hotplug_caller_actor<Target>* self, Target target, std::string disk,
                             clock_type::time_point deadline, caller_stats* stats, latch* done) {
  auto& st = self->state;
  st.target = std::move(target);
  st.disk = std::move(disk);
  st.deadline = deadline;
  st.stats = stats;
  st.done = done;
  add_disk(self);
  return {[](caf::ok_atom) {}};
}

int hotplug(int latency_us, int callers, double seconds, bool json, const std::string& policy,
            int moderate_sleep_us, int threads, const std::string& guest, bool via_vm, bool metrics,
            const std::string& anchor) {
  std::optional<external_anchor> outside;
  if (!anchor.empty()) {
    try {
      outside = measure_external_anchor(anchor, seconds);
    } catch (const std::exception& e) {
      std::cerr << "hotplug: the anchor: " << e.what() << "\n";
      return 2;
    }
  }
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
  std::vector<caller_stats> stats(static_cast<size_t>(callers));
  latch done(static_cast<size_t>(callers));
  auto t0 = clock_type::now();
  auto deadline =
      t0 + std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(seconds));
  for (int i = 0; i < callers; ++i) {
    auto disk = "/bench/disk-" + std::to_string(i) + ".vhdx";
    if (via_vm) {
      eng.system().spawn(hotplug_caller<uvm::utility_vm_actor>, vm->actor(), disk, deadline,
                         &stats[static_cast<size_t>(i)], &done);
    } else {
      eng.system().spawn(hotplug_caller<uvm::scsi_actor>, devices->scsi, disk, deadline,
                         &stats[static_cast<size_t>(i)], &done);
    }
  }
  done.wait();
  auto elapsed = seconds_since(t0);
  (void)vm->close();
  caller_stats all;
  for (const auto& c : stats) {
    all.add_ns.merge(c.add_ns);
    all.release_ns.merge(c.release_ns);
    all.ops += c.ops;
    all.errors += c.errors;
    if (all.first_error.empty()) {
      all.first_error = c.first_error;
    }
  }
  auto us = [](const latency_histogram& h, double percent) {
    return static_cast<double>(h.percentile(percent)) / 1e3;
  };
  nlohmann::json out = {{"bench", "hotplug"},
                        {"latency_us", latency_us},
                        {"callers", callers},
                        {"scheduler", policy},
                        {"scheduler_threads", threads},
                        {"guest", guest},
                        {"calls_to", via_vm ? "vm" : "scsi_controller"},
                        {"metrics", metrics},
                        {"allocator", allocator_name()},
                        {"sim_inline_completions", cfg.sim_inline_completions},
                        {"seconds", elapsed},
                        {"ops", all.ops},
                        {"errors", all.errors},
                        {"ops_per_s", static_cast<double>(all.ops) / elapsed},
                        {"add_p50_us", us(all.add_ns, 50)},
                        {"add_p99_us", us(all.add_ns, 99)},
                        {"release_p50_us", us(all.release_ns, 50)},
                        {"release_p99_us", us(all.release_ns, 99)}};
  if (floor) {
    out["timer_floor"] = {{"ops_per_s", floor->ops_per_s}, {"mean_late_us", floor->mean_late_us}};
    out["of_timer_floor"] = out["ops_per_s"].get<double>() / floor->ops_per_s;
  }
  if (outside) {
    out["anchor"] = nlohmann::json::parse(outside->report);
    out["of_anchor"] = out["ops_per_s"].get<double>() / outside->ops_per_s;
  }
  if (!all.first_error.empty()) {
    out["first_error"] = all.first_error;
  }
  std::cout << (json ? out.dump() : out.dump(2)) << std::endl;
  return all.errors == 0 ? 0 : 1;
}

} // namespace uvm::bench
