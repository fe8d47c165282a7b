// The concurrent fault storm (see storm.hpp).
//
// Each caller keeps a ledger of what it holds on each VM. Errors are allowed
// but must be of the kinds a storm explains (faults, deadlines, exits,
// restarts); never errc::internal. At quiescent points (one after each
// phase) the callers pause and, for every VM, the engine's device view must
// agree with the simulator's oracle and the guest's mount table, and, where
// the VM did not restart since the ledgers were last reset, its reference
// counts must equal the sum of the callers' ledgers: a late success is
// released again by the engine (retried through faults) and a removal whose
// host step fails gives the guest its mount back. At the end everything is
// released and closed, and the process's threads, descriptors and running
// actors come back to what they were after the engine started.
#include "bench/storm/storm.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "bench/core/process_stats.hpp"
#include "engine/calls.hpp"
#include "engine/engine.hpp"

using namespace std::chrono_literals;
using json = nlohmann::json;

namespace uvm::storm {

namespace {

constexpr int own_disks = 3;
constexpr int shared_disks = 8;
constexpr int layer_files = 6;
constexpr int share_dirs = 4;
constexpr int own_namespaces = 2;
constexpr double process_rate = 0.003; // processes fork: keep them rare

// Polls `pred` until it holds (true) or `limit` passes (false).
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

// Stops the storm with a reason (report::failure).
[[noreturn]] void stop(const std::string& why) {
  throw std::runtime_error(why);
}

const char* errc_name(uvm::errc c) {
  switch (c) {
  case uvm::errc::ok:
    return "ok";
  case uvm::errc::no_available_location:
    return "no_available_location";
  case uvm::errc::not_attached:
    return "not_attached";
  case uvm::errc::already_attached:
    return "already_attached";
  case uvm::errc::too_many_attachments:
    return "too_many_attachments";
  case uvm::errc::netns_already_attached:
    return "netns_already_attached";
  case uvm::errc::netns_not_found:
    return "netns_not_found";
  case uvm::errc::hcs_failure:
    return "hcs_failure";
  case uvm::errc::vm_exited:
    return "vm_exited";
  case uvm::errc::invalid_state:
    return "invalid_state";
  case uvm::errc::closed:
    return "closed";
  case uvm::errc::internal:
    return "internal";
  case uvm::errc::busy:
    return "busy";
  case uvm::errc::deadline_exceeded:
    return "deadline_exceeded";
  case uvm::errc::not_found:
    return "not_found";
  default:
    return "other";
  }
}

// The errors a storm explains: injected faults and what a crash does to
// calls in flight (hcs_failure, vm_exited), calls during a restart
// (invalid_state), the callers' own deadlines, admission control, full
// tables, and devices a restart wiped (not_attached, netns_not_found).
bool expected(uvm::errc c) {
  switch (c) {
  case uvm::errc::hcs_failure:
  case uvm::errc::vm_exited:
  case uvm::errc::invalid_state:
  case uvm::errc::deadline_exceeded:
  case uvm::errc::busy:
  case uvm::errc::not_attached:
  case uvm::errc::too_many_attachments:
  case uvm::errc::no_available_location:
  case uvm::errc::netns_already_attached:
  case uvm::errc::netns_not_found:
    return true;
  default:
    return false;
  }
}

// What one caller holds on one VM: successful adds not yet removed.
struct holdings {
  std::map<std::string, int> scsi;  // host path -> refs
  std::map<std::string, int> vpmem; // host path -> refs
  std::map<std::string, int> plan9; // share name -> refs
  std::set<std::string> netns;
};

// Counts shared by every caller; the texts of errors nobody explains.
struct totals {
  std::atomic<uint64_t> ops{0};
  std::atomic<uint64_t> ok{0};
  std::atomic<uint64_t> crashes{0};
  std::atomic<uint64_t> guest_faults{0};
  std::atomic<uint64_t> processes{0};
  std::atomic<uint64_t> async_calls{0};
  std::atomic<uint64_t> deadline_calls{0};
  std::mutex m;
  std::map<std::string, uint64_t> errors; // errc name -> count
  std::map<std::string, uint64_t> causes; // what some texts say
  std::vector<std::string> unexpected;    // unexplained errors and wrong results
  uint64_t unexpected_count = 0;

  void fail(const std::string& what) {
    std::lock_guard<std::mutex> lock{m};
    if (unexpected.size() < 20) {
      unexpected.push_back(what);
    }
    ++unexpected_count;
  }

  // `explained`: the caller knows why (a `cause` of its own).
  void error(const std::string& op, const uvm::error& e, const char* explained = nullptr) {
    {
      std::lock_guard<std::mutex> lock{m};
      ++errors[errc_name(e.code)];
      if (explained != nullptr) {
        ++causes[explained];
        return;
      }
      for (const char* cause : {"injected guest fault", "injected fault", "already present",
                                "bridge closed", "timed out"}) {
        if (e.text.find(cause) != std::string::npos) {
          ++causes[cause];
          break;
        }
      }
    }
    if (!expected(e.code)) {
      fail(op + ": " + errc_name(e.code) + ": " + e.text);
    }
  }
};

// A reusable barrier for the callers and the main thread (C++17 has none).
class barrier {
public:
  explicit barrier(int n) : n_(n) {}
  void arrive_and_wait() {
    std::unique_lock<std::mutex> lock{m_};
    auto gen = generation_;
    if (++arrived_ == n_) {
      arrived_ = 0;
      ++generation_;
      cv_.notify_all();
      return;
    }
    cv_.wait(lock, [&] { return generation_ != gen; });
  }

private:
  std::mutex m_;
  std::condition_variable cv_;
  int n_;
  int arrived_ = 0;
  uint64_t generation_ = 0;
};

// One caller thread's state. Asynchronous callbacks run on the engine's
// dispatcher, hence the mutex around the ledgers.
struct caller {
  int index;
  std::mt19937_64 rng;
  std::mutex m;
  std::vector<holdings> held;
  // VMs on which something this caller held was found gone: an engine bug
  // unless the VM restarted.
  std::set<int> gone;
  std::atomic<int> in_flight{0};

  caller(int i, int vms, uint64_t seed) : index(i), rng(seed), held(static_cast<size_t>(vms)) {}

  bool chance(double p) { return std::bernoulli_distribution(p)(rng); }
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
};

// Takes one reference out of a caller's ledger, to give it back.
std::string take_one(caller& c, std::map<std::string, int>& held) {
  std::lock_guard<std::mutex> lock{c.m};
  auto i = held.begin();
  std::advance(i, c.pick(static_cast<int>(held.size())));
  auto key = i->first;
  if (--i->second == 0) {
    held.erase(i);
  }
  return key;
}

struct storm_run {
  const options& o;
  uvm::engine& eng;
  std::vector<uvm::utility_vm>& vms;
  std::vector<std::string> layers; // VPMEM files on disk
  std::vector<std::string> dirs;   // Plan9 directories
  totals t;
  std::vector<std::unique_ptr<caller>> callers;

  storm_run(const options& opts, uvm::engine& e, std::vector<uvm::utility_vm>& v)
      : o(opts), eng(e), vms(v) {}

  static std::string guest_disk_path(const std::string& host) { return "/m" + host; }
  std::string share_uvm_path(int k) const { return "/run/p9/" + std::to_string(k); }

  // The form of an add: a deadline 0-5 ms ahead, asynchronous without
  // one, or blocking (the epoch means "blocking" here).
  enum class form { blocking, async, deadline };
  form pick_form(caller& c) {
    double r = std::uniform_real_distribution<double>(0, 1)(c.rng);
    return r < 0.3 ? form::deadline : r < 0.5 ? form::async : form::blocking;
  }
  uvm::utility_vm::deadline due_in(caller& c) {
    return uvm::utility_vm::deadline::clock::now() +
           std::chrono::microseconds(std::uniform_int_distribution<int>(0, 5000)(c.rng));
  }

  // Runs `call(done)` in the chosen form and `on(result)` with its answer,
  // counting the answer; `on` runs with the caller's ledger lock held.
  template <class T, class Call, class On>
  void run(caller& c, form f, const std::string& op, Call call, On on) {
    auto finish = [this, &c, op, on](uvm::result<T> r) {
      if (r) {
        ++t.ok;
      } else {
        t.error(op, r.err());
      }
      std::lock_guard<std::mutex> lock{c.m};
      on(r);
    };
    if (f == form::blocking) {
      finish(call(uvm::utility_vm::deadline{}, nullptr));
      return;
    }
    ++t.async_calls;
    uvm::utility_vm::deadline due{};
    if (f == form::deadline) {
      ++t.deadline_calls;
      due = due_in(c);
    }
    ++c.in_flight;
    call(due, [&c, finish](uvm::result<T> r) {
      finish(std::move(r));
      --c.in_flight;
    });
  }

  // Removal of something the ledger holds: taken out of the ledger first,
  // given back when the removal fails (the reference is still held), lost
  // for good when the engine says it is not there.
  template <class Map>
  static void after_remove(caller& c, Map& map, const std::string& key, const uvm::error& e, int vm,
                           uvm::errc gone_code) {
    if (!e) {
      return;
    }
    if (e.code == gone_code) {
      c.gone.insert(vm);
      return;
    }
    ++map[key];
  }

  void scsi_op(caller& c, int v, bool remove) {
    auto& vm = vms[v];
    if (remove) {
      auto path = take_one(c, c.held[v].scsi);
      auto on = [&c, v, path](const uvm::result<caf::ok_atom>& r) {
        after_remove(c, c.held[v].scsi, path, r ? uvm::error{} : r.err(), v,
                     uvm::errc::not_attached);
      };
      auto f = c.chance(0.25) ? form::async : form::blocking;
      run<caf::ok_atom>(
          c, f, "remove_scsi " + path,
          [&vm,
           path](uvm::utility_vm::deadline,
                 std::function<void(uvm::result<caf::ok_atom>)> done) -> uvm::result<caf::ok_atom> {
            if (!done) {
              auto e = vm.remove_scsi(path);
              return e ? uvm::result<caf::ok_atom>{e} : uvm::result<caf::ok_atom>{caf::ok_atom_v};
            }
            vm.remove_scsi(path, [done](const uvm::error& e) {
              done(e ? uvm::result<caf::ok_atom>{e} : uvm::result<caf::ok_atom>{caf::ok_atom_v});
            });
            return uvm::error{};
          },
          on);
      return;
    }
    std::string path = c.chance(0.5) ? "/d/c" + std::to_string(c.index) + "-" +
                                           std::to_string(c.pick(own_disks)) + ".vhdx"
                                     : "/d/shared" + std::to_string(c.pick(shared_disks)) + ".vhdx";
    uvm::scsi_add_request req{path, guest_disk_path(path), false, uvm::vm_access_type::noop, false,
                              ""};
    run<uvm::resource::scsi_mount>(
        c, pick_form(c), "add_scsi " + path,
        [&vm, req](uvm::utility_vm::deadline due,
                   std::function<void(uvm::result<uvm::resource::scsi_mount>)> done)
            -> uvm::result<uvm::resource::scsi_mount> {
          if (!done) {
            return vm.add_scsi(req.host_path, req.uvm_path, false, uvm::vm_access_type::noop);
          }
          vm.call(uvm::calls::add_scsi{req}, std::move(done), due);
          return uvm::error{};
        },
        [this, &c, v, path](const uvm::result<uvm::resource::scsi_mount>& r) {
          if (!r) {
            return;
          }
          if (r->uvm_path != guest_disk_path(path)) {
            t.fail("add_scsi " + path + " mounted at " + r->uvm_path);
          }
          ++c.held[v].scsi[path];
        });
  }

  // A call of the VM's interface in the chosen form.
  template <class T, class... Ts>
  auto generic(uvm::utility_vm& vm, Ts... xs) {
    return [&vm, xs...](uvm::utility_vm::deadline due,
                        std::function<void(uvm::result<T>)> done) -> uvm::result<T> {
      if (!done) {
        return vm.request<T>(xs...);
      }
      if (due == uvm::utility_vm::deadline{}) {
        vm.request_async<T>(std::move(done), xs...);
      } else {
        vm.request_by<T>(due, std::move(done), xs...);
      }
      return uvm::error{uvm::errc::ok, ""};
    };
  }

  void vpmem_op(caller& c, int v, bool remove) {
    auto& vm = vms[v];
    if (remove) {
      auto path = take_one(c, c.held[v].vpmem);
      run<caf::ok_atom>(c, c.chance(0.25) ? form::async : form::blocking, "remove_vpmem " + path,
                        generic<caf::ok_atom>(vm, uvm::remove_vpmem_atom_v, path, std::string{}),
                        [&c, v, path](const uvm::result<caf::ok_atom>& r) {
                          after_remove(c, c.held[v].vpmem, path, r ? uvm::error{} : r.err(), v,
                                       uvm::errc::not_attached);
                        });
      return;
    }
    auto path = layers[c.pick(layer_files)];
    run<std::string>(c, pick_form(c), "add_vpmem " + path,
                     generic<std::string>(vm, uvm::add_vpmem_atom_v, path, std::string{}),
                     [this, &c, v, path](const uvm::result<std::string>& r) {
                       if (!r) {
                         return;
                       }
                       if (r->rfind("/run/layers/p", 0) != 0) {
                         t.fail("add_vpmem " + path + " at " + *r);
                       }
                       ++c.held[v].vpmem[path];
                     });
  }

  void plan9_op(caller& c, int v, bool remove) {
    auto& vm = vms[v];
    if (remove) {
      auto name = take_one(c, c.held[v].plan9);
      run<caf::ok_atom>(c, c.chance(0.25) ? form::async : form::blocking, "remove_plan9 " + name,
                        generic<caf::ok_atom>(vm, uvm::remove_plan9_atom_v, name, std::string{}),
                        [&c, v, name](const uvm::result<caf::ok_atom>& r) {
                          after_remove(c, c.held[v].plan9, name, r ? uvm::error{} : r.err(), v,
                                       uvm::errc::not_attached);
                        });
      return;
    }
    // One guest path and one mode per directory: adds of a directory are
    // identical and share one share.
    int k = c.pick(share_dirs);
    uvm::plan9_add_request req{dirs[k], share_uvm_path(k), k % 2 == 1, false, {}, ""};
    run<uvm::plan9_share_handle>(
        c, pick_form(c), "add_plan9 " + req.host_path,
        generic<uvm::plan9_share_handle>(vm, uvm::add_plan9_atom_v, req),
        [this, &c, v, req](const uvm::result<uvm::plan9_share_handle>& r) {
          if (!r) {
            return;
          }
          if (r->host_path != req.host_path || r->uvm_path != req.uvm_path) {
            t.fail("add_plan9 " + req.host_path + " gave " + r->host_path + " at " + r->uvm_path);
          }
          ++c.held[v].plan9[r->name];
        });
  }

  void netns_op(caller& c, int v, bool remove) {
    auto& vm = vms[v];
    std::string ns;
    if (remove) {
      {
        std::lock_guard<std::mutex> lock{c.m};
        auto& h = c.held[v].netns;
        auto i = h.begin();
        std::advance(i, c.pick(static_cast<int>(h.size())));
        ns = *i;
        h.erase(i);
      }
      run<caf::ok_atom>(c, c.chance(0.25) ? form::async : form::blocking, "remove_netns " + ns,
                        generic<caf::ok_atom>(vm, uvm::remove_netns_atom_v, ns, std::string{}),
                        [&c, v, ns](const uvm::result<caf::ok_atom>& r) {
                          if (r) {
                            return;
                          }
                          if (r.err().code == uvm::errc::netns_not_found) {
                            c.gone.insert(v);
                          } else {
                            c.held[v].netns.insert(ns);
                          }
                        });
      return;
    }
    // Namespaces are not ref-counted: each caller adds its own.
    ns = "ns-c" + std::to_string(c.index) + "-" + std::to_string(c.pick(own_namespaces));
    {
      std::lock_guard<std::mutex> lock{c.m};
      if (c.held[v].netns.count(ns) != 0) {
        return;
      }
    }
    run<caf::ok_atom>(c, pick_form(c), "add_netns " + ns,
                      generic<caf::ok_atom>(vm, uvm::add_netns_atom_v, ns, std::string{}),
                      [&c, v, ns](const uvm::result<caf::ok_atom>& r) {
                        if (r) {
                          c.held[v].netns.insert(ns);
                        }
                      });
  }

  void process_op(caller& c, int v) {
    uint32_t code = static_cast<uint32_t>(c.pick(100));
    uvm::process_parameters p;
    p.command_args = {"sh", "-c", "exit " + std::to_string(code)};
    auto restarts = [&] {
      auto info = vms[v].info();
      return info ? info->restarts : 0;
    };
    auto restarts_before = restarts();
    auto proc = vms[v].create_process(p.to_json());
    if (!proc) {
      t.error("create_process", proc.err());
      return;
    }
    auto got = proc->wait();
    if (!got) {
      // The restarted VM's guest never knew the process.
      bool lost = got.err().code == uvm::errc::not_found && restarts() != restarts_before;
      t.error("process wait", got.err(), lost ? "process lost in a restart" : nullptr);
      return;
    }
    ++t.ok;
    ++t.processes;
    if (*got != code) {
      t.fail("process exit " + std::to_string(*got) + ", expected " + std::to_string(code));
    }
  }

  void one_op(caller& c) {
    auto total = ++t.ops;
    int v = c.pick(o.vms);
    if (o.crash_every != 0 && total % o.crash_every == 0) {
      ++t.crashes;
      eng.sim().crash(vms[c.pick(o.vms)].id());
    }
    if (c.chance(o.guest_fault_rate)) {
      ++t.guest_faults;
      vms[c.pick(o.vms)].guest_fail(1);
    }
    if (c.chance(process_rate)) {
      process_op(c, v);
      return;
    }
    size_t held = 0;
    int kind = c.pick(100);
    {
      std::lock_guard<std::mutex> lock{c.m};
      const auto& h = c.held[v];
      held = kind < 35   ? h.scsi.size()
             : kind < 60 ? h.vpmem.size()
             : kind < 80 ? h.plan9.size()
                         : h.netns.size();
    }
    // Remove about as often as add, and more once a caller holds a few.
    bool remove = held > 0 && (held >= 3 || c.chance(0.45));
    if (kind < 35) {
      scsi_op(c, v, remove);
    } else if (kind < 60) {
      vpmem_op(c, v, remove);
    } else if (kind < 80) {
      plan9_op(c, v, remove);
    } else {
      netns_op(c, v, remove);
    }
  }
};

// Blocking removal with a few tries: a guest fault armed earlier may
// still be waiting for the next guest request.
template <class F>
uvm::error with_retries(F f) {
  uvm::error e;
  for (int i = 0; i < 10; ++i) {
    e = f();
    if (!e || (e.code != uvm::errc::hcs_failure && e.code != uvm::errc::busy)) {
      return e;
    }
  }
  return e;
}

// References per device of one VM, keyed "scsi <host path>", "vpmem <host
// path>", "plan9 <share name>" or "netns <namespace>".
using refs = std::map<std::string, int>;

void add_holdings(refs& sum, const holdings& h) {
  for (const auto& [path, n] : h.scsi) {
    sum["scsi " + path] += n;
  }
  for (const auto& [path, n] : h.vpmem) {
    sum["vpmem " + path] += n;
  }
  for (const auto& [name, n] : h.plan9) {
    sum["plan9 " + name] += n;
  }
  for (const auto& ns : h.netns) {
    sum["netns " + ns] += 1;
  }
}

// What the engine's device view says: references per device, occupied
// slots with their host paths, the guest mounts those imply, and entries
// still in flight (there must be none at a quiescent point).
struct engine_devices {
  refs held;
  std::map<std::string, std::string> slots;
  std::set<std::string> mounts;
  std::vector<std::string> unsettled;
};

engine_devices read_view(json& view) {
  engine_devices out;
  for (const auto& [slot, d] : view["scsi"].items()) {
    auto path = d["host_path"].get<std::string>();
    if (d["state"] != "attached" || d["waiters"] != 0) {
      out.unsettled.push_back("scsi " + slot + " " + d.dump());
    }
    out.slots["scsi " + slot] = path;
    out.held["scsi " + path] = d["refs"].get<int>();
    out.mounts.insert("MappedVirtualDisk " + d["uvm_path"].get<std::string>());
  }
  for (const auto& [n, d] : view["vpmem"]["devices"].items()) {
    auto path = d["host_path"].get<std::string>();
    if (d["state"] != "attached" || d["waiters"] != 0) {
      out.unsettled.push_back("vpmem " + n + " " + d.dump());
    }
    out.slots["vpmem " + n] = path;
    out.held["vpmem " + path] = d["refs"].get<int>();
    out.mounts.insert("VPMemDevice /run/layers/p" + n);
  }
  for (const auto& [name, d] : view["shares"]["plan9"].items()) {
    if (d["state"] != "live" || d["waiters"] != 0) {
      out.unsettled.push_back("plan9 " + name + " " + d.dump());
    }
    out.slots["plan9 " + name] = d["host_path"].get<std::string>();
    out.held["plan9 " + name] = d["refs"].get<int>();
    out.mounts.insert("MappedDirectory " + d["uvm_path"].get<std::string>());
  }
  for (const auto& [ns, endpoints] : view["network"].items()) {
    out.held["netns " + ns] = 1;
  }
  return out;
}

// The simulator's slots in the same shape.
std::map<std::string, std::string> read_oracle(json& sim) {
  std::map<std::string, std::string> slots;
  for (const auto& [slot, d] : sim["scsi"].items()) {
    slots["scsi " + slot] = d["Path"].get<std::string>();
  }
  for (const auto& [n, d] : sim["vpmem"].items()) {
    slots["vpmem " + n] = d["HostPath"].get<std::string>();
  }
  for (const auto& [name, d] : sim["plan9"].items()) {
    slots["plan9 " + name] = d["Path"].get<std::string>();
  }
  return slots;
}

// Removes every reference counted in `r`, reporting each answer.
template <class Report>
void release_all(uvm::utility_vm& vm, const refs& r, Report report) {
  for (const auto& [key, n] : r) {
    auto space = key.find(' ');
    auto kind = key.substr(0, space);
    auto what = key.substr(space + 1);
    for (int i = 0; i < n; ++i) {
      report(key, with_retries([&vm, &kind, &what]() -> uvm::error {
               if (kind == "scsi") {
                 return vm.remove_scsi(what);
               }
               if (kind == "vpmem") {
                 return vm.remove_vpmem(what);
               }
               if (kind == "netns") {
                 return vm.remove_net_ns(what);
               }
               auto done = vm.request<caf::ok_atom>(uvm::remove_plan9_atom_v, what, std::string{});
               return done ? uvm::error{} : done.err();
             }));
    }
  }
}

// A folder with the boot files CreateLCOW checks for, the VPMEM layer
// files and the Plan9 directories.
struct storm_host {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("uvm-storm-" + std::to_string(::getpid()));
  std::vector<std::string> layers;
  std::vector<std::string> dirs;

  storm_host() {
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "kernel") << "kernel\n";
    std::ofstream(dir / "initrd.img") << "initrd\n";
    for (int i = 0; i < layer_files; ++i) {
      layers.push_back((dir / ("layer" + std::to_string(i) + ".vhd")).string());
      std::ofstream(layers.back()) << "layer " << i << "\n";
    }
    for (int i = 0; i < share_dirs; ++i) {
      dirs.push_back((dir / ("share" + std::to_string(i))).string());
      std::filesystem::create_directories(dirs.back());
    }
  }
  ~storm_host() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  storm_host(const storm_host&) = delete;
  storm_host& operator=(const storm_host&) = delete;
};

// The storm proper; `r` collects what it finds.
class storm_driver {
public:
  storm_driver(const options& o, report& r) : o_(o), r_(r) {}

  void run() {
    std::vector<uint32_t> restarts_at_reset(static_cast<size_t>(o_.vms), 0);
    create_fleet();
    storm_run s{o_, *eng_, vms_};
    s.layers = host_.layers;
    s.dirs = host_.dirs;
    for (int i = 0; i < o_.callers; ++i) {
      s.callers.push_back(std::make_unique<caller>(i, o_.vms, o_.seed + static_cast<uint64_t>(i)));
    }
    auto t0 = std::chrono::steady_clock::now();
    // Exactly o_.ops operations: the first `rem` of the (phase, caller)
    // shares take one more.
    const auto shares = static_cast<uint64_t>(o_.callers) * static_cast<uint64_t>(o_.phases);
    const uint64_t base = o_.ops / shares;
    const uint64_t rem = o_.ops % shares;
    eng_->sim().fail_with_probability(hcs::call_kind::modify, o_.hcs_fault_rate);
    barrier sync{o_.callers + 1};
    std::vector<std::thread> threads;
    for (auto& cp : s.callers) {
      threads.emplace_back([this, &s, &sync, c = cp.get(), base, rem] {
        for (int phase = 0; phase < o_.phases; ++phase) {
          auto share = static_cast<uint64_t>(phase) * static_cast<uint64_t>(o_.callers) +
                       static_cast<uint64_t>(c->index);
          uint64_t n = base + (share < rem ? 1 : 0);
          for (uint64_t i = 0; i < n; ++i) {
            s.one_op(*c);
          }
          sync.arrive_and_wait(); // done with this phase
          sync.arrive_and_wait(); // the check is over
        }
      });
    }
    // A failed check must still release the callers, or the storm would
    // hang at the barrier instead of failing.
    std::exception_ptr failed;
    for (int phase = 0; phase < o_.phases; ++phase) {
      sync.arrive_and_wait();
      if (!failed) {
        try {
          // No new faults while the engine settles and the views are compared.
          eng_->sim().fail_with_probability(hcs::call_kind::modify, 0);
          settle(s);
          check_all(s, restarts_at_reset);
          eng_->sim().fail_with_probability(hcs::call_kind::modify, o_.hcs_fault_rate);
        } catch (...) {
          failed = std::current_exception();
        }
      }
      sync.arrive_and_wait();
    }
    for (auto& th : threads) {
      th.join();
    }
    eng_->sim().fail_with_probability(hcs::call_kind::modify, 0);
    r_.storm_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    count(s);
    if (failed) {
      std::rethrow_exception(failed);
    }
    release_and_close(s);
  }

private:
  // Threads and descriptors once every VM is closed, against what they
  // were after the engine started.
  void check_leaks() {
    r_.threads_back = eventually(
        [&] {
          r_.threads_at_end = bench::thread_count();
          return r_.threads_at_end <= r_.threads_at_start + 1;
        },
        10s);
    r_.fds_back = eventually(
        [&] {
          r_.fds_at_end = bench::open_descriptors().size();
          // + the sandbox's lifeline pipe, opened once per process by the
          // first guest process (guest/sandbox.cpp).
          return r_.fds_at_end <= r_.fds_at_start + 2;
        },
        10s);
    auto now = bench::open_descriptors();
    for (const auto& target : fd_targets_at_start_) {
      auto i = now.find(target);
      if (i != now.end()) {
        now.erase(i);
      }
    }
    r_.new_fds.assign(now.begin(), now.end());
  }

  void create_fleet() {
    engine_config cfg;
    cfg.host = o_.host;
    // A hung call fails within a minute instead of after five.
    cfg.bridge_rpc_timeout = 30s;
    cfg.cleanup_margin = 5s;
    cfg.call_timeout = 40s;
    eng_ = std::make_unique<engine>(cfg);
    r_.threads_at_start = bench::thread_count();
    r_.fds_at_start = bench::open_descriptors().size();
    r_.actors_at_start = eng_->system().registry().running();
    fd_targets_at_start_ = bench::open_descriptors();

    restart_policy policy;
    policy.kind = restart_kind::on_failure;
    policy.max_restarts = 1000000; // crashes must not exhaust the intensity limit
    policy.backoff_initial_ms = 5;
    policy.backoff_max_ms = 50;
    for (int i = 0; i < o_.vms; ++i) {
      auto id = "storm" + std::to_string(i);
      auto opts = new_default_options_lcow(id, "uvm-storm", o_.host, [](const std::string& p) {
        return std::filesystem::exists(p);
      });
      opts.boot_files_path = host_.dir.string();
      auto vm = eng_->create_lcow(opts, policy);
      if (!vm) {
        stop("cannot create " + id + ": " + vm.err().text);
      }
      if (auto e = vm->start()) {
        stop("cannot start " + id + ": " + e.text);
      }
      vms_.push_back(*vm);
    }
  }

  void mismatch(const std::string& what) {
    ++r_.mismatches;
    if (r_.mismatch_texts.size() < 20) {
      r_.mismatch_texts.push_back(what);
    }
  }

  // Releasing what a caller holds never fails once the faults are off.
  void release_failed(int v, const std::string& what, const uvm::error& e) {
    if (e) {
      mismatch(vms_[static_cast<size_t>(v)].id() + " cannot release " + what + ": " + e.text);
    }
  }

  // Waits until every call has answered, the late replies have settled
  // and every VM runs again.
  void settle(storm_run& s) {
    if (!eventually(
            [&] {
              return std::all_of(s.callers.begin(), s.callers.end(),
                                 [](const auto& c) { return c->in_flight == 0; });
            },
            60s)) {
      stop("callers' asynchronous calls still unanswered after 60 s");
    }
    if (!eventually(
            [&] {
              for (auto& vm : vms_) {
                auto info = vm.info();
                if (!info || info->state != lifecycle_state::running ||
                    info->calls_outstanding != 0) {
                  return false;
                }
              }
              return true;
            },
            60s)) {
      stop("VMs not all running without outstanding calls after 60 s");
    }
    auto late = eng_->late_replies();
    if (!eventually(
            [&] {
              std::this_thread::sleep_for(100ms);
              auto now = eng_->late_replies();
              bool same = now.undone == late.undone && now.kept == late.kept;
              late = now;
              return same;
            },
            30s)) {
      stop("late replies still being released after 30 s");
    }
  }

  // The engine's view against the simulator's oracle and the guest's
  // mounts, and (for VMs that did not restart) against the ledgers.
  // Restarted VMs are emptied and their ledgers dropped.
  void check_all(storm_run& s, std::vector<uint32_t>& restarts_at_reset) {
    auto oracle = eng_->sim().oracle();
    for (int v = 0; v < o_.vms; ++v) {
      auto& vm = vms_[static_cast<size_t>(v)];
      const auto& id = vm.id();
      auto text = vm.device_view();
      if (!text) {
        stop(id + ": device_view: " + text.err().text);
      }
      auto view = json::parse(*text);
      auto info = vm.info();
      if (!info) {
        stop(id + ": info: " + info.err().text);
      }
      auto& at_reset = restarts_at_reset[static_cast<size_t>(v)];
      bool restarted = info->restarts != at_reset;

      auto in_engine = read_view(view);
      for (const auto& entry : in_engine.unsettled) {
        mismatch(id + " not settled: " + entry);
      }
      auto sim_slots = read_oracle(oracle[id]);
      if (in_engine.slots != sim_slots) {
        mismatch(id + " engine and simulator differ: engine " + json(in_engine.slots).dump() +
                 " simulator " + json(sim_slots).dump());
      }
      // The in-process guest's mount table, where the view carries it.
      auto& bridge = view["gcs_bridge"];
      if (bridge.contains("mounts")) {
        std::set<std::string> mounted;
        for (const auto& [key, settings] : bridge["mounts"].items()) {
          if (key.rfind("Network ", 0) != 0 && key.rfind("VPCIDevice ", 0) != 0) {
            mounted.insert(key);
          }
        }
        if (mounted != in_engine.mounts) {
          std::vector<std::string> only_guest, only_engine;
          std::set_difference(mounted.begin(), mounted.end(), in_engine.mounts.begin(),
                              in_engine.mounts.end(), std::back_inserter(only_guest));
          std::set_difference(in_engine.mounts.begin(), in_engine.mounts.end(), mounted.begin(),
                              mounted.end(), std::back_inserter(only_engine));
          mismatch(id + " guest mounts differ: only in the guest " + json(only_guest).dump() +
                   ", only in the engine's view " + json(only_engine).dump());
        }
      }

      if (!restarted) {
        refs expected_refs;
        bool gone = false;
        for (auto& c : s.callers) {
          std::lock_guard<std::mutex> lock{c->m};
          add_holdings(expected_refs, c->held[static_cast<size_t>(v)]);
          gone = gone || c->gone.count(v) != 0;
        }
        if (gone) {
          mismatch(id + ": a held device was not attached, and the VM did not restart");
        }
        if (expected_refs != in_engine.held) {
          mismatch(id + " references " + json(in_engine.held).dump() + ", ledgers " +
                   json(expected_refs).dump());
        }
      }
      for (auto& c : s.callers) {
        c->gone.erase(v);
      }
      if (!restarted) {
        continue;
      }
      // What the restarted VM holds now was added after the restart by
      // callers whose ledgers cannot tell it from what the restart wiped:
      // drop the ledgers and release it all, so that the VM starts clean.
      ++r_.restarted_vms;
      for (auto& c : s.callers) {
        std::lock_guard<std::mutex> lock{c->m};
        c->held[static_cast<size_t>(v)] = holdings{};
      }
      release_all(vm, in_engine.held, [&](const std::string& what, const uvm::error& e) {
        release_failed(v, what, e);
      });
      at_reset = info->restarts;
    }
  }

  void count(storm_run& s) {
    std::lock_guard<std::mutex> lock{s.t.m};
    r_.ops = s.t.ops;
    r_.ok = s.t.ok;
    r_.async_calls = s.t.async_calls;
    r_.deadline_calls = s.t.deadline_calls;
    r_.processes = s.t.processes;
    r_.crashes = s.t.crashes;
    r_.expected_crashes = o_.crash_every == 0 ? 0 : r_.ops / o_.crash_every;
    r_.guest_faults = s.t.guest_faults;
    r_.errors = s.t.errors;
    r_.causes = s.t.causes;
    r_.unexpected = s.t.unexpected_count;
    r_.unexpected_texts = s.t.unexpected;
  }

  // Releases what the ledgers hold (the last check reset restarted VMs,
  // and nothing crashed since); then neither the simulator nor the engine
  // holds anything on any VM and no call is outstanding. Closes every VM
  // and the engine.
  void release_and_close(storm_run& s) {
    for (int v = 0; v < o_.vms; ++v) {
      refs all;
      for (auto& c : s.callers) {
        add_holdings(all, c->held[static_cast<size_t>(v)]);
        c->held[static_cast<size_t>(v)] = holdings{};
      }
      release_all(vms_[static_cast<size_t>(v)], all,
                  [&](const std::string& what, const uvm::error& e) {
                    ++r_.released_at_end;
                    release_failed(v, what, e);
                  });
    }
    auto oracle = eng_->sim().oracle();
    for (auto& vm : vms_) {
      auto sim = oracle[vm.id()];
      auto text = vm.device_view();
      auto info = vm.info();
      if (!text || !info) {
        mismatch(vm.id() + " cannot be read after the storm");
        continue;
      }
      auto view = json::parse(*text);
      if (!read_view(view).held.empty() || !read_oracle(sim).empty()) {
        mismatch(vm.id() + " holds devices after every release: simulator " + sim.dump() +
                 " engine " + view.dump());
      }
      if (info->calls_outstanding != 0) {
        mismatch(vm.id() + " has " + std::to_string(info->calls_outstanding) +
                 " calls outstanding after the storm");
      }
      r_.restarts += info->restarts;
    }
    auto late = eng_->late_replies();
    r_.late_undone = late.undone;
    r_.late_kept = late.kept;
    for (auto& vm : vms_) {
      if (auto e = vm.close()) {
        mismatch(vm.id() + " close: " + e.text);
      }
    }
    if (!eventually([&] { return eng_->sim().oracle().empty(); }, 10s)) {
      mismatch("the simulator still has VMs after every close: " + eng_->sim().oracle().dump());
    }
    r_.actors_back = eventually(
        [&] {
          r_.actors_at_end = eng_->system().registry().running();
          return r_.actors_at_end <= r_.actors_at_start;
        },
        10s);
    check_leaks();
    vms_.clear();
    eng_.reset();
  }

  const options& o_;
  report& r_;
  storm_host host_;
  std::unique_ptr<engine> eng_;
  std::vector<utility_vm> vms_;
  std::multiset<std::string> fd_targets_at_start_;
};

} // namespace

bool report::clean() const {
  return failure.empty() && mismatches == 0 && unexpected == 0 && late_kept == 0 &&
         crashes == expected_crashes && threads_back && fds_back && actors_back;
}

json report::to_json() const {
  return json{
      {"ops", ops},
      {"seconds", storm_seconds},
      {"ops_per_s", storm_seconds > 0 ? static_cast<double>(ops) / storm_seconds : 0.0},
      {"ok", ok},
      {"async_calls", async_calls},
      {"deadline_calls", deadline_calls},
      {"processes", processes},
      {"errors", errors},
      {"causes", causes},
      {"late_replies", {{"undone", late_undone}, {"kept", late_kept}}},
      {"crashes", crashes},
      {"expected_crashes", expected_crashes},
      {"restarts", restarts},
      {"restarted_vms_reset", restarted_vms},
      {"guest_faults_armed", guest_faults},
      {"released_at_end", released_at_end},
      {"mismatches", mismatches},
      {"mismatch_texts", mismatch_texts},
      {"unexpected_errors", unexpected},
      {"unexpected_texts", unexpected_texts},
      {"threads", {{"start", threads_at_start}, {"end", threads_at_end}, {"back", threads_back}}},
      {"fds", {{"start", fds_at_start}, {"end", fds_at_end}, {"back", fds_back}, {"new", new_fds}}},
      {"actors", {{"start", actors_at_start}, {"end", actors_at_end}, {"back", actors_back}}},
      {"failure", failure},
      {"clean", clean()}};
}

std::string report::summary() const {
  std::ostringstream out;
  out << "storm: " << ops << " ops in " << static_cast<uint64_t>(storm_seconds * 1000) << " ms, "
      << ok << " ok, " << async_calls << " asynchronous (" << deadline_calls
      << " with a deadline), " << processes << " processes\nerrors:";
  for (const auto& [kind, n] : errors) {
    out << " " << kind << "=" << n;
  }
  out << "\ncauses:";
  for (const auto& [cause, n] : causes) {
    out << " '" << cause << "'=" << n;
  }
  out << "\nlate replies: undone=" << late_undone << " kept=" << late_kept
      << "\ncrashes=" << crashes << " (expected " << expected_crashes << ") restarts=" << restarts
      << " restarted VMs reset=" << restarted_vms << " guest faults armed=" << guest_faults
      << " released at end=" << released_at_end << "\nmismatches=" << mismatches
      << " unexpected errors=" << unexpected << "; threads " << threads_at_start << " -> "
      << threads_at_end << ", fds " << fds_at_start << " -> " << fds_at_end << " (new:";
  for (const auto& fd : new_fds) {
    out << " " << fd;
  }
  out << "), actors " << actors_at_start << " -> " << actors_at_end;
  if (!failure.empty()) {
    out << "\nstopped early: " << failure;
  }
  for (const auto& text : unexpected_texts) {
    out << "\n  unexpected: " << text;
  }
  for (const auto& text : mismatch_texts) {
    out << "\n  mismatch: " << text;
  }
  return out.str();
}

report run(const options& o) {
  report r;
  {
    storm_driver d{o, r};
    try {
      d.run();
    } catch (const std::exception& e) {
      r.failure = e.what();
    }
  }
  return r;
}

} // namespace uvm::storm
