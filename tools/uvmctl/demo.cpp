#include "tools/uvmctl/demo.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <unistd.h>

namespace uvm::cli {

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

// Progress lines come from the main thread and from the bus subscriber.
class progress {
public:
  progress(std::ostream& out) : out_(out), t0_(clock_type::now()) {}

  void say(const std::string& text) {
    std::lock_guard<std::mutex> lock{m_};
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0_);
    out_ << "[" << std::right << std::setw(6) << ms.count() << " ms] " << text << std::endl;
  }

  void name(const std::string& id, const std::string& name) {
    std::lock_guard<std::mutex> lock{m_};
    names_[id] = name;
  }

  std::string name_of(const std::string& id) {
    std::lock_guard<std::mutex> lock{m_};
    auto i = names_.find(id);
    return i == names_.end() ? id : i->second;
  }

private:
  std::mutex m_;
  std::ostream& out_;
  clock_type::time_point t0_;
  std::map<std::string, std::string> names_;
};

// Prints what the event bus carries.
caf::behavior bus_printer(caf::event_based_actor* self, caf::group bus, progress* p) {
  self->join(bus);
  return {
      [=](const vm_exited_event& e) {
        if (e.unexpected) {
          p->say("event: " + p->name_of(e.vm_id) + " exited unexpectedly: " + e.exit_error);
        } else {
          p->say("event: " + p->name_of(e.vm_id) + " stopped");
        }
      },
      [=](const vm_restart_event& e) {
        if (e.action == "restart") {
          p->say("event: supervisor restarts " + p->name_of(e.vm_id) + " (attempt " +
                 std::to_string(e.attempt) + ", back-off " + std::to_string(e.delay_ms) + " ms)");
        } else {
          p->say("event: supervisor gave up on " + p->name_of(e.vm_id));
        }
      },
      [=](const vm_created_event& e) {
        if (e.restarts > 0) {
          p->say("event: " + p->name_of(e.vm_id) + " re-created from its options");
        }
      },
      [=](const vm_started_event& e) {
        if (e.restarts > 0) {
          p->say("event: " + p->name_of(e.vm_id) + " running again (restart " +
                 std::to_string(e.restarts) + ")");
        }
      },
      [](const vm_closed_event&) {},
  };
}

struct fleet_member {
  std::string name;
  utility_vm vm;
  bool ok = true;
  std::string problem;
};

void configure_latency(hcs::sim_backend& sim) {
  using std::chrono::milliseconds;
  sim.set_latency(hcs::call_kind::create, milliseconds{20}, milliseconds{60});
  sim.set_latency(hcs::call_kind::start, milliseconds{100}, milliseconds{300});
  sim.set_latency(hcs::call_kind::terminate, milliseconds{10}, milliseconds{30});
  sim.set_latency(hcs::call_kind::shutdown, milliseconds{30}, milliseconds{60});
  sim.set_latency(hcs::call_kind::properties, milliseconds{1}, milliseconds{2});
}

// Runs `op` on every member at once (async API) and waits for all.
void for_all(std::vector<fleet_member>& fleet,
             const std::function<void(fleet_member&, std::function<void(const error&)>)>& op,
             const std::function<void(fleet_member&, const error&)>& after) {
  std::mutex m;
  std::condition_variable cv;
  size_t left = fleet.size();
  for (auto& member : fleet) {
    op(member, [&, mp = &member](const error& e) {
      after(*mp, e);
      std::lock_guard<std::mutex> lock{m};
      if (--left == 0) {
        cv.notify_all();
      }
    });
  }
  std::unique_lock<std::mutex> lock{m};
  cv.wait(lock, [&] { return left == 0; });
}

void print_table(std::ostream& out, const std::vector<std::pair<std::string, vm_info>>& rows,
                 const std::map<std::string, std::string>& exit_errors) {
  out << std::left << std::setw(8) << "NAME" << std::setw(38) << "ID" << std::setw(9) << "OS"
      << std::setw(10) << "STATE" << std::setw(6) << "CPUS" << std::setw(8) << "MEM_MB"
      << std::setw(10) << "RESTARTS"
      << "LAST_EXIT\n";
  for (const auto& [name, info] : rows) {
    auto e = exit_errors.find(info.id);
    out << std::left << std::setw(8) << name << std::setw(38) << info.id << std::setw(9) << info.os
        << std::setw(10) << to_string(info.state) << std::setw(6) << info.processor_count
        << std::setw(8) << info.memory_size_in_mb << std::setw(10) << info.restarts
        << (e == exit_errors.end() ? "-" : "unexpected (0xC0370106)") << "\n";
  }
}

} // namespace

namespace {

void run_in_guest(fleet_member& m, progress& p) {
  process_parameters params;
  params.command_args = {"sh", "-c", "echo \"hello from $0's guest agent, pid $$\"", m.name};
  params.create_stdout = params.create_stderr = true;
  auto proc = m.vm.create_process(params.to_json());
  auto output = proc ? proc->communicate("") : result<bridge::process_output>{proc.err()};
  auto code = output ? proc->wait() : result<uint32_t>{output.err()};
  if (!code || *code != 0) {
    m.ok = false;
    m.problem = code ? "the guest process exited " + std::to_string(*code) : code.err().text;
    p.say(m.name + ": running a process in its guest failed: " + m.problem);
    return;
  }
  auto line = output->out.substr(0, output->out.find('\n'));
  p.say(m.name + " ran `sh -c echo` in its guest: \"" + line + "\" (exit 0)");
}

} // namespace

demo_host demo_host::make(const std::string& dir) {
  demo_host h;
  h.root = dir.empty() ? fs::temp_directory_path() / ("uvmctl-demo-" + std::to_string(::getpid()))
                       : fs::path{dir};
  h.boot_files = h.root / "LinuxBootFiles";
  h.base_layer = h.root / "layers" / "base";
  fs::create_directories(h.boot_files);
  fs::create_directories(h.base_layer / "UtilityVM" / "Files");
  std::ofstream(h.boot_files / "kernel") << "placeholder kernel\n";
  std::ofstream(h.boot_files / "initrd.img") << "placeholder initrd\n";
  std::ofstream(h.base_layer / "UtilityVM" / "SystemTemplate.vhdx") << "placeholder vhdx\n";
  return h;
}

int run_demo(const demo_options& opts, std::ostream& out) {
  // With --json, stdout carries only the summary document.
  std::ostream& say_to = opts.json ? std::cerr : out;
  progress p{say_to};
  auto host_dir = demo_host::make(opts.work_dir);
  engine_config cfg;
  cfg.host = detect_host();
  engine eng{cfg};
  configure_latency(eng.sim());
  auto printer = eng.system().spawn(bus_printer, eng.events(), &p);

  p.say("simulated HCS, " + std::to_string(opts.lcow) + " LCOW + " + std::to_string(opts.wcow) +
        " WCOW utility VMs; host files under " + host_dir.root.string() +
        " (placeholders: the simulator boots nothing)");

  restart_policy policy;
  policy.kind = restart_kind::on_failure;
  policy.max_restarts = 3;
  policy.backoff_initial_ms = 100;

  // Create the fleet concurrently through the asynchronous API.
  std::vector<fleet_member> fleet;
  std::mutex fleet_mutex;
  std::condition_variable fleet_cv;
  int expected = opts.lcow + opts.wcow;
  int done = 0;
  bool failed = false;
  auto created = [&](const std::string& name) {
    return [&, name](result<utility_vm> vm) {
      std::lock_guard<std::mutex> lock{fleet_mutex};
      if (vm) {
        p.name(vm->id(), name);
        p.say("created " + name + " (" + vm->os() + ", id " + vm->id() + ")");
        fleet.push_back({name, *vm, true, {}});
      } else {
        p.say("create " + name + " failed: " + vm.err().text);
        failed = true;
      }
      ++done;
      fleet_cv.notify_all();
    };
  };
  for (int i = 1; i <= opts.lcow; ++i) {
    auto o = new_default_options_lcow("", "uvmctl-demo", cfg.host,
                                      [](const std::string& f) { return fs::exists(f); });
    o.boot_files_path = host_dir.boot_files.string();
    eng.create_lcow(std::move(o), policy, created("lcow-" + std::to_string(i)));
  }
  for (int i = 1; i <= opts.wcow; ++i) {
    auto o = new_default_options_wcow("", "uvmctl-demo", cfg.host);
    o.layer_folders = {host_dir.base_layer.string(),
                       (host_dir.root / ("scratch-" + std::to_string(i))).string()};
    eng.create_wcow(std::move(o), policy, created("wcow-" + std::to_string(i)));
  }
  {
    std::unique_lock<std::mutex> lock{fleet_mutex};
    fleet_cv.wait(lock, [&] { return done == expected; });
  }
  std::sort(fleet.begin(), fleet.end(),
            [](const fleet_member& a, const fleet_member& b) { return a.name < b.name; });

  for_all(
      fleet, [](fleet_member& m, std::function<void(const error&)> cb) { m.vm.start(cb); },
      [&](fleet_member& m, const error& e) {
        if (e) {
          m.ok = false;
          m.problem = e.text;
          p.say("start " + m.name + " failed: " + e.text);
        } else {
          p.say("started " + m.name);
        }
      });

  // One unexpected exit (the first LCOW VM): the supervisor's policy brings
  // the VM back.
  auto victim = std::find_if(fleet.begin(), fleet.end(),
                             [](const fleet_member& m) { return m.vm.os() == "linux"; });
  if (victim != fleet.end() && victim->ok) {
    p.say("injecting an unexpected exit into " + victim->name + " (restart policy on-failure)");
    eng.sim().crash(victim->vm.id());
    auto deadline = clock_type::now() + std::chrono::seconds(10);
    bool back = false;
    while (clock_type::now() < deadline) {
      auto info = victim->vm.info();
      if (info && info->restarts >= 1 && info->state == lifecycle_state::running) {
        back = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!back) {
      victim->ok = false;
      victim->problem = "did not come back after the injected exit";
      p.say(victim->name + " did not come back within 10 s");
    }
  }

  // A real process in the guest of the restarted VM: its bridge came back too.
  if (victim != fleet.end() && victim->ok) {
    run_in_guest(*victim, p);
  }

  std::vector<std::pair<std::string, vm_info>> rows;
  for (auto& m : fleet) {
    auto info = m.vm.info();
    if (info) {
      rows.emplace_back(m.name, *info);
    }
  }
  std::map<std::string, std::string> exit_errors;
  if (auto exits = eng.exits()) {
    for (const auto& e : *exits) {
      if (e.unexpected) {
        exit_errors[e.vm_id] = e.exit_error;
      }
    }
  }
  if (opts.json) {
    nlohmann::json doc = nlohmann::json::array();
    for (const auto& [name, info] : rows) {
      auto e = exit_errors.find(info.id);
      doc.push_back({{"name", name},
                     {"id", info.id},
                     {"os", info.os},
                     {"state", to_string(info.state)},
                     {"processor_count", info.processor_count},
                     {"memory_size_in_mb", info.memory_size_in_mb},
                     {"restarts", info.restarts},
                     {"last_unexpected_exit", e == exit_errors.end() ? "" : e->second}});
    }
    out << doc.dump(2) << std::endl;
  } else {
    say_to << "\n";
    print_table(out, rows, exit_errors);
    say_to << "\n";
  }

  for_all(
      fleet, [](fleet_member& m, std::function<void(const error&)> cb) { m.vm.close(cb); },
      [&](fleet_member& m, const error& e) {
        if (e) {
          m.ok = false;
          m.problem = e.text;
          p.say("close " + m.name + " failed: " + e.text);
        }
      });
  auto remaining = eng.list();
  p.say("closed " + std::to_string(fleet.size()) + " VMs; " +
        std::to_string(remaining ? remaining->size() : 0) + " left in the registry");
  caf::anon_send_exit(printer, caf::exit_reason::user_shutdown);
  if (opts.work_dir.empty()) {
    std::error_code ec;
    fs::remove_all(host_dir.root, ec);
  }
  bool all_ok = !failed &&
                std::all_of(fleet.begin(), fleet.end(), [](const fleet_member& m) { return m.ok; });
  return all_ok && remaining && remaining->empty() ? 0 : 1;
}

} // namespace uvm::cli
