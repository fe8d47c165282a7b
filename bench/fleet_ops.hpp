// The operations of a fleet run on its targets (the embedded engine or
// uvmd nodes), each issued through the engine's asynchronous calls so that
// the generator never waits for an answer; `done` gets the operation's
// error (none for success) once its last step answered.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/core/fleet_profile.hpp"
#include "engine/engine.hpp"

namespace uvm::bench {

// A few threads for the calls that exist in a blocking form only (a
// remote node's simulator controls): queued, never on the generator.
class blocking_runner {
public:
  explicit blocking_runner(int threads);
  ~blocking_runner();
  blocking_runner(const blocking_runner&) = delete;
  blocking_runner& operator=(const blocking_runner&) = delete;
  void post(std::function<void()> job);

private:
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

struct fleet_target {
  std::string name; // "embedded" or the node's HOST:PORT
  std::unique_ptr<engine> eng;
  std::vector<utility_vm> pool; // the VMs held up during the run
};

class fleet_ops {
public:
  using done_fn = std::function<void(const error&)>;

  fleet_ops(const fleet_profile& profile, std::string boot_files, blocking_runner& runner)
      : profile_(profile), boot_files_(std::move(boot_files)), runner_(runner) {}

  // `vm_pick` chooses the held VM of the device, process and fault ops.
  void issue(fleet_op op, fleet_target& target, size_t vm_pick, done_fn done);
  // The options of a new LCOW VM on `target`.
  options_lcow vm_options(const fleet_target& target, const std::string& id) const;
  // Creates and starts one VM.
  void create_and_start(fleet_target& target, const std::string& id,
                        std::function<void(result<utility_vm>)> done);
  // The files the VPMEM op attaches (in the boot files folder, which the
  // nodes of a local test share); a VM attaching one twice shares it.
  static constexpr int vpmem_layers = 256;
  void make_layers() const;
  // The profile's simulator latencies on the target; an error names the call.
  error apply_sim_latency(fleet_target& target);

private:
  void vm_churn(fleet_target& target, done_fn done);
  void scsi(utility_vm vm, done_fn done);
  void vpmem(utility_vm vm, done_fn done);
  void plan9(utility_vm vm, done_fn done);
  void process(utility_vm vm, done_fn done);
  void crash(fleet_target& target, done_fn done);
  // Applies `c` to the target's simulator, then runs `then`.
  void control(fleet_target& target, sim_control c, std::function<void(const error&)> then);
  std::string next_name(const char* kind);

  const fleet_profile& profile_;
  std::string boot_files_;
  blocking_runner& runner_;
  std::atomic<uint64_t> seq_{0};
};

} // namespace uvm::bench
