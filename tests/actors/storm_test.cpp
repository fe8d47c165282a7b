// A concurrent fault storm through the public embedding API: 100 LCOW VMs
// (restart policy on-failure) and 64 caller threads doing random SCSI,
// VPMEM, Plan9 and network namespace adds and removes, and a few guest
// processes, in blocking and asynchronous forms, some adds with caller
// deadlines of 0-5 ms. Meanwhile 1% of HCS modify calls fail, guest faults
// are armed on about 1% of operations, and a VM crashes every 2000
// operations and comes back.
//
// Each caller keeps a ledger of what it holds on each VM. Errors are allowed
// but must be of the kinds a storm explains (faults, deadlines, exits,
// restarts); never errc::internal. At quiescent points (three during the run
// and one at the end) the callers pause and, for every VM, the engine's
// device view must agree with the simulator's oracle and the guest's mount
// table, and, where the VM did not restart since the ledgers were last
// reset, its reference counts must equal the sum of the callers' ledgers:
// a late success is released again by the engine (retried through faults)
// and a removal whose host step fails gives the guest its mount back. At
// the end everything is released and closed, and the process's threads and
// descriptors come back to what they were after the engine started.
//
// UVM_STORM_OPS sets the number of operations (all callers together).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "engine/engine.hpp"
#include "tests/actors/fixtures.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UVM_STORM_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UVM_STORM_SANITIZED 1
#endif
#endif

using namespace std::chrono_literals;
using json = nlohmann::json;
using uvm::test::eventually;

namespace {

constexpr int vm_count = 100;
constexpr int caller_count = 64;
constexpr int phases = 4; // a quiescent check after each
constexpr int own_disks = 3;
constexpr int shared_disks = 8;
constexpr int layer_files = 6;
constexpr int share_dirs = 4;
constexpr int own_namespaces = 2;
constexpr uint64_t crash_every = 2000;
constexpr double process_rate = 0.003; // processes fork: keep them rare

int storm_ops() {
  const char* env = std::getenv("UVM_STORM_OPS");
  if (env != nullptr && std::atoi(env) > 0) {
    return std::atoi(env);
  }
#ifdef UVM_STORM_SANITIZED
  return 10000; // about ten times slower: well under the two-minute limit
#else
  return 100000; // about 20 s on two idle cores
#endif
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

size_t entries(const char* dir) {
  size_t n = 0;
  std::error_code ec;
  for (auto i = std::filesystem::directory_iterator(dir, ec);
       !ec && i != std::filesystem::directory_iterator(); i.increment(ec)) {
    ++n;
  }
  return n;
}

// What this process's descriptors point at.
std::multiset<std::string> fd_targets() {
  std::multiset<std::string> out;
  std::error_code ec;
  for (auto i = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && i != std::filesystem::directory_iterator(); i.increment(ec)) {
    std::error_code link_ec;
    out.insert(std::filesystem::read_symlink(i->path(), link_ec).string());
  }
  return out;
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

  void error(const std::string& op, const uvm::error& e) {
    {
      std::lock_guard<std::mutex> lock{m};
      ++errors[errc_name(e.code)];
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
  int index = 0;
  std::mt19937_64 rng;
  std::mutex m;
  std::vector<holdings> held = std::vector<holdings>(vm_count);
  // VMs on which something this caller held was found gone: an engine bug
  // unless the VM restarted.
  std::set<int> gone;
  std::atomic<int> in_flight{0};

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

struct storm {
  uvm::engine& eng;
  std::vector<uvm::utility_vm>& vms;
  std::vector<std::string> layers; // VPMEM files on disk
  std::vector<std::string> dirs;   // Plan9 directories
  totals t;
  std::vector<std::unique_ptr<caller>> callers;

  storm(uvm::engine& e, std::vector<uvm::utility_vm>& v) : eng(e), vms(v) {}

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
    run<uvm::scsi_mount>(
        c, pick_form(c), "add_scsi " + path,
        [&vm, req](uvm::utility_vm::deadline due,
                   std::function<void(uvm::result<uvm::scsi_mount>)> done)
            -> uvm::result<uvm::scsi_mount> {
          if (!done) {
            return vm.add_scsi(req.host_path, req.uvm_path, false, uvm::vm_access_type::noop);
          }
          vm.add_scsi(req, std::move(done), due);
          return uvm::error{};
        },
        [this, &c, v, path](const uvm::result<uvm::scsi_mount>& r) {
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
    auto proc = vms[v].create_process(p.to_json());
    if (!proc) {
      t.error("create_process", proc.err());
      return;
    }
    auto got = proc->wait();
    if (!got) {
      t.error("process wait", got.err());
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
    int v = c.pick(vm_count);
    if (total % crash_every == 0) {
      ++t.crashes;
      eng.sim().crash(vms[c.pick(vm_count)].id());
    }
    if (c.chance(0.01)) {
      ++t.guest_faults;
      vms[c.pick(vm_count)].guest_fail(1);
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

} // namespace

TEST_CASE("concurrent fault storm: 100 VMs, 64 callers, faults, deadlines and crashes",
          "[engine][storm]") {
  const int total_ops = storm_ops();
  const int ops_per_phase = std::max(1, total_ops / (caller_count * phases));
  uvm::test::host_dir host;
  uvm::engine_config cfg;
  cfg.host = uvm::test::test_host();
  // A hung call fails within a minute instead of after five.
  cfg.bridge_rpc_timeout = 30s;
  cfg.cleanup_margin = 5s;
  cfg.call_timeout = 40s;
  uvm::engine eng{cfg};
  const size_t threads_at_start = entries("/proc/self/task");
  const size_t fds_at_start = entries("/proc/self/fd");
  const auto fd_targets_at_start = fd_targets();
  auto t0 = std::chrono::steady_clock::now();

  uvm::restart_policy policy;
  policy.kind = uvm::restart_kind::on_failure;
  policy.max_restarts = 1000; // crashes must not exhaust the intensity limit
  policy.backoff_initial_ms = 5;
  policy.backoff_max_ms = 50;
  std::vector<uvm::utility_vm> vms;
  for (int i = 0; i < vm_count; ++i) {
    auto vm = eng.create_lcow(host.lcow("storm" + std::to_string(i)), policy);
    REQUIRE(vm);
    REQUIRE_FALSE(vm->start());
    vms.push_back(*vm);
  }

  storm s{eng, vms};
  for (int i = 0; i < layer_files; ++i) {
    s.layers.push_back(host.path("layer" + std::to_string(i) + ".vhd"));
    std::ofstream(s.layers.back()) << "layer " << i << "\n";
  }
  for (int i = 0; i < share_dirs; ++i) {
    s.dirs.push_back(host.path("share" + std::to_string(i)));
    std::filesystem::create_directories(s.dirs.back());
  }
  for (int i = 0; i < caller_count; ++i) {
    s.callers.push_back(std::make_unique<caller>());
    s.callers.back()->index = i;
    s.callers.back()->rng.seed(0x5eed + static_cast<uint64_t>(i));
  }
  // Restarts seen when each VM's ledgers were last valid.
  std::vector<uint32_t> restarts_at_reset(vm_count, 0);
  uint64_t mismatches = 0;
  uint64_t restarted_vms = 0;
  std::vector<std::string> mismatch_texts;
  auto mismatch = [&](const std::string& what) {
    ++mismatches;
    if (mismatch_texts.size() < 20) {
      mismatch_texts.push_back(what);
    }
  };

  // Waits until every call has answered, the late replies have settled
  // and every VM runs again.
  auto settle = [&] {
    REQUIRE(eventually(
        [&] {
          return std::all_of(s.callers.begin(), s.callers.end(),
                             [](const auto& c) { return c->in_flight == 0; });
        },
        60s));
    REQUIRE(eventually(
        [&] {
          for (auto& vm : vms) {
            auto info = vm.info();
            if (!info || info->state != uvm::lifecycle_state::running ||
                info->calls_outstanding != 0) {
              return false;
            }
          }
          return true;
        },
        60s));
    auto late = eng.late_replies();
    REQUIRE(eventually(
        [&] {
          std::this_thread::sleep_for(100ms);
          auto now = eng.late_replies();
          bool same = now.undone == late.undone && now.kept == late.kept;
          late = now;
          return same;
        },
        30s));
  };

  // Releasing what a caller holds never fails once the faults are off.
  auto release_failed = [&](int v, const std::string& what, const uvm::error& e) {
    if (e) {
      mismatch(vms[v].id() + " cannot release " + what + ": " + e.text);
    }
  };

  // The engine's view against the simulator's oracle and the guest's
  // mounts, and (for VMs that did not restart) against the ledgers.
  // Restarted VMs are emptied and their ledgers dropped.
  auto check_all = [&] {
    auto oracle = eng.sim().oracle();
    for (int v = 0; v < vm_count; ++v) {
      auto& vm = vms[v];
      const auto& id = vm.id();
      auto text = vm.device_view();
      REQUIRE(text);
      auto view = json::parse(*text);
      auto info = vm.info();
      REQUIRE(info);
      bool restarted = info->restarts != restarts_at_reset[v];

      auto engine = read_view(view);
      for (const auto& entry : engine.unsettled) {
        mismatch(id + " not settled: " + entry);
      }
      auto sim_slots = read_oracle(oracle[id]);
      if (engine.slots != sim_slots) {
        mismatch(id + " engine and simulator differ: engine " + json(engine.slots).dump() +
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
        if (mounted != engine.mounts) {
          std::vector<std::string> only_guest, only_engine;
          std::set_difference(mounted.begin(), mounted.end(), engine.mounts.begin(),
                              engine.mounts.end(), std::back_inserter(only_guest));
          std::set_difference(engine.mounts.begin(), engine.mounts.end(), mounted.begin(),
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
          add_holdings(expected_refs, c->held[v]);
          gone = gone || c->gone.count(v) != 0;
        }
        if (gone) {
          mismatch(id + ": a held device was not attached, and the VM did not restart");
        }
        if (expected_refs != engine.held) {
          mismatch(id + " references " + json(engine.held).dump() + ", ledgers " +
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
      ++restarted_vms;
      for (auto& c : s.callers) {
        std::lock_guard<std::mutex> lock{c->m};
        c->held[v] = holdings{};
      }
      release_all(vm, engine.held, [&](const std::string& what, const uvm::error& e) {
        release_failed(v, what, e);
      });
      restarts_at_reset[v] = info->restarts;
    }
  };

  eng.sim().fail_with_probability(uvm::hcs::call_kind::modify, 0.01);
  barrier sync{caller_count + 1};
  std::vector<std::thread> threads;
  for (auto& cp : s.callers) {
    threads.emplace_back([&s, &sync, c = cp.get(), ops_per_phase] {
      for (int phase = 0; phase < phases; ++phase) {
        for (int i = 0; i < ops_per_phase; ++i) {
          s.one_op(*c);
        }
        sync.arrive_and_wait(); // done with this phase
        sync.arrive_and_wait(); // the check is over
      }
    });
  }
  // A failed REQUIRE here must still release the callers, or the test
  // would hang at the barrier instead of failing.
  std::exception_ptr failed;
  for (int phase = 0; phase < phases; ++phase) {
    sync.arrive_and_wait();
    if (!failed) {
      try {
        // No new faults while the engine settles and the views are compared.
        eng.sim().fail_with_probability(uvm::hcs::call_kind::modify, 0);
        settle();
        check_all();
        eng.sim().fail_with_probability(uvm::hcs::call_kind::modify, 0.01);
      } catch (...) {
        failed = std::current_exception();
      }
    }
    sync.arrive_and_wait();
  }
  for (auto& th : threads) {
    th.join();
  }
  if (failed) {
    std::rethrow_exception(failed);
  }
  eng.sim().fail_with_probability(uvm::hcs::call_kind::modify, 0);
  auto storm_took = std::chrono::steady_clock::now() - t0;

  // Release what the ledgers hold (the last check reset restarted VMs, and
  // nothing crashed since).
  uint64_t released = 0;
  for (int v = 0; v < vm_count; ++v) {
    refs all;
    for (auto& c : s.callers) {
      add_holdings(all, c->held[v]);
      c->held[v] = holdings{};
    }
    release_all(vms[v], all, [&](const std::string& what, const uvm::error& e) {
      ++released;
      release_failed(v, what, e);
    });
  }
  // Everything released: neither the simulator nor the engine holds
  // anything on any VM, and no call is outstanding.
  uint64_t restarts = 0;
  {
    auto oracle = eng.sim().oracle();
    for (int v = 0; v < vm_count; ++v) {
      auto& vm = vms[v];
      auto sim = oracle[vm.id()];
      auto view = json::parse(*vm.device_view());
      INFO(vm.id() << " simulator " << sim.dump() << " engine " << view.dump());
      CHECK(read_view(view).held.empty());
      CHECK(read_oracle(sim).empty());
      auto info = vm.info();
      REQUIRE(info);
      CHECK(info->calls_outstanding == 0);
      restarts += info->restarts;
    }
  }
  for (auto& vm : vms) {
    CHECK_FALSE(vm.close());
  }
  CHECK(eventually([&] { return eng.sim().oracle().empty(); }, 10s));
  size_t threads_now = 0, fds_now = 0;
  bool threads_back = eventually(
      [&] {
        threads_now = entries("/proc/self/task");
        return threads_now <= threads_at_start + 1;
      },
      10s);
  bool fds_back = eventually(
      [&] {
        fds_now = entries("/proc/self/fd");
        // + the sandbox's lifeline pipe, opened once per process by the
        // first guest process (guest/sandbox.cpp).
        return fds_now <= fds_at_start + 2;
      },
      10s);
  INFO("threads " << threads_at_start << " -> " << threads_now << ", fds " << fds_at_start << " -> "
                  << fds_now);
  CHECK(threads_back);
  CHECK(fds_back);
  std::string new_fds;
  auto fds_at_end = fd_targets();
  for (const auto& target : fd_targets_at_start) {
    auto i = fds_at_end.find(target);
    if (i != fds_at_end.end()) {
      fds_at_end.erase(i);
    }
  }
  for (const auto& target : fds_at_end) {
    new_fds += " " + target;
  }

  std::ostringstream report;
  auto late = eng.late_replies();
  {
    std::lock_guard<std::mutex> lock{s.t.m};
    report << "storm: " << s.t.ops << " ops in "
           << std::chrono::duration_cast<std::chrono::milliseconds>(storm_took).count() << " ms, "
           << s.t.ok << " ok, " << s.t.async_calls << " asynchronous (" << s.t.deadline_calls
           << " with a deadline), " << s.t.processes << " processes\n"
           << "errors:";
    for (const auto& [kind, n] : s.t.errors) {
      report << " " << kind << "=" << n;
    }
    report << "\ncauses:";
    for (const auto& [cause, n] : s.t.causes) {
      report << " '" << cause << "'=" << n;
    }
    report << "\nlate replies: undone=" << late.undone << " kept=" << late.kept
           << "\ncrashes=" << s.t.crashes << " restarts=" << restarts
           << " restarted VMs reset=" << restarted_vms << " guest faults armed=" << s.t.guest_faults
           << " released at end=" << released << "\nmismatches=" << mismatches
           << " unexpected errors=" << s.t.unexpected_count << "; threads " << threads_at_start
           << " -> " << threads_now << ", fds " << fds_at_start << " -> " << fds_now
           << " (new:" << new_fds << ")";
    for (const auto& text : s.t.unexpected) {
      report << "\n  unexpected: " << text;
    }
  }
  for (const auto& text : mismatch_texts) {
    report << "\n  mismatch: " << text;
  }
  WARN(report.str());
  CHECK(mismatches == 0);
  CHECK(s.t.unexpected_count == 0);
  CHECK(s.t.crashes == s.t.ops / crash_every); // a tiny UVM_STORM_OPS has none
  CHECK(late.kept == 0);
}
