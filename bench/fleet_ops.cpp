#include "bench/fleet_ops.hpp"

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "engine/sim_control.hpp"

namespace uvm::bench {

blocking_runner::blocking_runner(int threads) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      std::unique_lock<std::mutex> lock{m_};
      for (;;) {
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) {
          return;
        }
        auto job = std::move(jobs_.front());
        jobs_.pop_front();
        lock.unlock();
        job();
        lock.lock();
      }
    });
  }
}

blocking_runner::~blocking_runner() {
  {
    std::lock_guard<std::mutex> lock{m_};
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    t.join();
  }
}

void blocking_runner::post(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock{m_};
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void fleet_ops::make_layers() const {
  for (int i = 0; i < vpmem_layers; ++i) {
    std::ofstream(boot_files_ + "/layer-" + std::to_string(i) + ".vhd") << "layer\n";
  }
}

std::string fleet_ops::next_name(const char* kind) {
  return std::string{"fleet-"} + kind + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(seq_.fetch_add(1));
}

options_lcow fleet_ops::vm_options(const fleet_target& target, const std::string& id) const {
  auto o =
      new_default_options_lcow(id, "uvm-bench", target.eng->config().host,
                               [](const std::string& p) { return std::filesystem::exists(p); });
  if (!boot_files_.empty()) {
    o.boot_files_path = boot_files_;
  }
  o.common.backend = profile_.backend;
  // Room for the attaches in flight on one VM.
  o.scsi_controller_count = 4;
  return o;
}

void fleet_ops::create_and_start(fleet_target& target, const std::string& id,
                                 std::function<void(result<utility_vm>)> done) {
  target.eng->create_lcow(vm_options(target, id), restart_policy{},
                          [done = std::move(done)](result<utility_vm> r) {
                            if (!r) {
                              done(r.err());
                              return;
                            }
                            auto vm = *r;
                            vm.start([vm, done](const error& e) mutable {
                              if (!e) {
                                done(vm);
                                return;
                              }
                              vm.close([e, done](const error&) { done(e); });
                            });
                          });
}

void fleet_ops::control(fleet_target& target, sim_control c,
                        std::function<void(const error&)> then) {
  if (target.eng->has_local_sim()) {
    auto r = apply_sim_control(target.eng->sim(), c);
    then(r ? error{} : r.err());
    return;
  }
  auto* eng = target.eng.get();
  runner_.post([eng, c, then = std::move(then)] {
    auto r = eng->control_sim(c);
    then(r ? error{} : r.err());
  });
}

error fleet_ops::apply_sim_latency(fleet_target& target) {
  for (const auto& [call, range] : profile_.sim_latency) {
    hcs::call_kind kind{};
    if (!hcs::parse_call_kind(call, kind)) {
      return error{errc::bad_request, "unknown HCS call kind " + call};
    }
    sim_control c;
    c.what = sim_control::kind::latency;
    c.call = static_cast<uint8_t>(kind);
    c.min_us = range.min_us;
    c.max_us = range.max_us;
    auto r = target.eng->control_sim(c);
    if (!r) {
      return r.err();
    }
  }
  return {};
}

void fleet_ops::issue(fleet_op op, fleet_target& target, size_t vm_pick, done_fn done) {
  auto held = [&]() { return target.pool[vm_pick % target.pool.size()]; };
  switch (op) {
  case fleet_op::vm_churn:
    vm_churn(target, std::move(done));
    return;
  case fleet_op::scsi:
    scsi(held(), std::move(done));
    return;
  case fleet_op::vpmem:
    vpmem(held(), std::move(done));
    return;
  case fleet_op::plan9:
    plan9(held(), std::move(done));
    return;
  case fleet_op::process:
    process(held(), std::move(done));
    return;
  case fleet_op::stats:
    held().request_async<vm_stats>(
        [done = std::move(done)](result<vm_stats> r) { done(r ? error{} : r.err()); }, stats_atom_v,
        std::string{});
    return;
  case fleet_op::hcs_fault: {
    auto vm = held();
    sim_control c;
    c.what = sim_control::kind::fail_next;
    c.call = static_cast<uint8_t>(hcs::call_kind::modify);
    c.count = 1;
    c.target = vm.id();
    control(target, c, [this, vm, done = std::move(done)](const error& e) {
      if (e) {
        done(e);
        return;
      }
      scsi(vm, done);
    });
    return;
  }
  case fleet_op::guest_fault: {
    auto vm = held();
    vm.guest_fail(1);
    scsi(vm, std::move(done));
    return;
  }
  case fleet_op::crash:
    crash(target, std::move(done));
    return;
  }
}

void fleet_ops::vm_churn(fleet_target& target, done_fn done) {
  create_and_start(target, next_name("churn"), [done = std::move(done)](result<utility_vm> r) {
    if (!r) {
      done(r.err());
      return;
    }
    r->close(done);
  });
}

void fleet_ops::scsi(utility_vm vm, done_fn done) {
  scsi_add_request req;
  req.host_path = "/fleet/" + next_name("scsi") + ".vhdx";
  vm.add_scsi(req,
              [vm, path = req.host_path, done = std::move(done)](result<scsi_mount> r) mutable {
                if (!r) {
                  done(r.err());
                  return;
                }
                vm.remove_scsi(path, done);
              });
}

void fleet_ops::vpmem(utility_vm vm, done_fn done) {
  // VPMEM reads the layer's size: one of the layer files made at start.
  auto path = boot_files_ + "/layer-" + std::to_string(seq_.fetch_add(1) % vpmem_layers) + ".vhd";
  vm.request_async<std::string>(
      [vm, path, done = std::move(done)](result<std::string> r) {
        if (!r) {
          done(r.err());
          return;
        }
        vm.request_async<caf::ok_atom>(
            [done](result<caf::ok_atom> r2) { done(r2 ? error{} : r2.err()); }, remove_vpmem_atom_v,
            path, std::string{});
      },
      add_vpmem_atom_v, path, std::string{});
}

void fleet_ops::plan9(utility_vm vm, done_fn done) {
  auto name = next_name("plan9");
  plan9_add_request req;
  req.host_path = "/fleet/" + name;
  req.uvm_path = "/run/" + name;
  req.read_only = true;
  vm.request_async<plan9_share_handle>(
      [vm, done = std::move(done)](result<plan9_share_handle> r) {
        if (!r) {
          done(r.err());
          return;
        }
        vm.request_async<caf::ok_atom>(
            [done](result<caf::ok_atom> r2) { done(r2 ? error{} : r2.err()); }, remove_plan9_atom_v,
            r->name, std::string{});
      },
      add_plan9_atom_v, req);
}

void fleet_ops::process(utility_vm vm, done_fn done) {
  process_parameters params;
  params.command_line = profile_.guest_command;
  process_request req{"", params.to_json(), ""};
  vm.request_async<process_started>(
      [vm, done = std::move(done)](result<process_started> r) {
        if (!r) {
          done(r.err());
          return;
        }
        auto cid = r->container_id;
        auto pid = r->pid;
        vm.request_async<uint32_t>(
            [vm, cid, pid, done](result<uint32_t> code) {
              caf::anon_send(vm.actor(), forget_process_atom_v, cid, pid);
              if (!code) {
                done(code.err());
              } else if (*code != 0) {
                done(error{errc::internal, "process exited with " + std::to_string(*code)});
              } else {
                done({});
              }
            },
            wait_process_atom_v, cid, pid);
      },
      exec_process_atom_v, req);
}

void fleet_ops::crash(fleet_target& target, done_fn done) {
  create_and_start(target, next_name("crash"),
                   [this, &target, done = std::move(done)](result<utility_vm> r) {
                     if (!r) {
                       done(r.err());
                       return;
                     }
                     auto vm = *r;
                     sim_control c;
                     c.what = sim_control::kind::crash_now;
                     c.target = vm.id();
                     control(target, c, [vm, done](const error& e) mutable {
                       if (e) {
                         vm.close([e, done](const error&) { done(e); });
                         return;
                       }
                       // The exit is what the crash op waits for; its error is the crash's.
                       vm.wait([vm, done](const error&) mutable { vm.close(done); });
                     });
                   });
}

} // namespace uvm::bench
