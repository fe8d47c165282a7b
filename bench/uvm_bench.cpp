// uvm-bench: load and benchmark harness for the engine on the simulated HCS.
//   uvm-bench lifecycle --vms N --latency-us L [--json]
//     N LCOW VMs created, started and closed concurrently through the async
//     API, every backend call taking L µs.
//   uvm-bench hotplug --latency-us L --callers G --seconds S [--json]
//     one VM; G callers, each adding then removing its own SCSI disk in a
//     loop, every backend call taking L µs. Reports ops_per_s (adds and
//     releases completed per second) and the p50/p99 latencies of each.
//     The guest step goes to the guest stub unless --guest says otherwise.
//   uvm-bench roundtrip --calls N [--json]
//     one VM call (ContainerCounter) N times, blocking vs asynchronous, in
//     the same run.
//   uvm-bench bridge [--gcs PATH] --calls N --window W [--json]
//     N ModifySettings RPCs (SCSI mount add/remove) to a `gcs` child over a
//     unix socket, W in flight, then N again with 1 in flight.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/engine.hpp"
#include "bench/qemu_bench.hpp"
#include "bridge/protocol.hpp"
#include "bridge/rpc_messages.hpp"
#include "hcs/device_requests.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
namespace fs = std::filesystem;

// Boot files CreateLCOW checks for; the simulator boots nothing.
struct boot_files {
  fs::path dir = fs::temp_directory_path() / ("uvm-bench-" + std::to_string(::getpid()));
  boot_files() {
    fs::create_directories(dir);
    std::ofstream(dir / "kernel") << "k\n";
    std::ofstream(dir / "initrd.img") << "i\n";
  }
  ~boot_files() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// Waits until `n` completions were counted.
class latch {
public:
  explicit latch(size_t n) : left_(n) {}
  void count_down() {
    std::lock_guard<std::mutex> lock{m_};
    if (--left_ == 0) {
      cv_.notify_all();
    }
  }
  void wait() {
    std::unique_lock<std::mutex> lock{m_};
    cv_.wait(lock, [&] { return left_ == 0; });
  }

private:
  std::mutex m_;
  std::condition_variable cv_;
  size_t left_;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  auto idx = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  return v[idx];
}

double seconds_between(clock_type::time_point t0, clock_type::time_point t1) {
  return std::chrono::duration<double>(t1 - t0).count();
}

double seconds_since(clock_type::time_point t0) {
  return seconds_between(t0, clock_type::now());
}

int lifecycle(int vms, int latency_us, bool json) {
  boot_files boot;
  uvm::engine_config cfg;
  cfg.host = uvm::detect_host();
  uvm::engine eng{cfg};
  auto lat = std::chrono::microseconds{latency_us};
  for (auto k : {uvm::hcs::call_kind::create, uvm::hcs::call_kind::start,
                 uvm::hcs::call_kind::terminate, uvm::hcs::call_kind::properties}) {
    eng.sim().set_latency(k, lat, lat);
  }
  std::mutex m;
  std::vector<double> create_ms;
  std::vector<uvm::utility_vm> handles;
  std::atomic<int> errors{0};
  auto t0 = clock_type::now();
  {
    latch created(static_cast<size_t>(vms));
    for (int i = 0; i < vms; ++i) {
      auto o = uvm::new_default_options_lcow("", "uvm-bench", cfg.host,
                                             [](const std::string& p) { return fs::exists(p); });
      o.boot_files_path = boot.dir.string();
      auto start = clock_type::now();
      eng.create_lcow(std::move(o), {}, [&, start](uvm::result<uvm::utility_vm> vm) {
        std::lock_guard<std::mutex> lock{m};
        if (vm) {
          handles.push_back(*vm);
          create_ms.push_back(seconds_since(start) * 1000);
        } else {
          ++errors;
        }
        created.count_down();
      });
    }
    created.wait();
  }
  auto created_s = seconds_since(t0);
  auto t1 = clock_type::now();
  {
    latch started(handles.size());
    for (auto& vm : handles) {
      vm.start([&](const uvm::error& e) {
        errors += e ? 1 : 0;
        started.count_down();
      });
    }
    started.wait();
  }
  auto started_s = seconds_since(t1);
  auto t2 = clock_type::now();
  {
    latch closed(handles.size());
    for (auto& vm : handles) {
      vm.close([&](const uvm::error& e) {
        errors += e ? 1 : 0;
        closed.count_down();
      });
    }
    closed.wait();
  }
  auto closed_s = seconds_since(t2);
  nlohmann::json out = {{"bench", "lifecycle"},
                        {"vms", vms},
                        {"latency_us", latency_us},
                        {"errors", errors.load()},
                        {"create_per_s", vms / created_s},
                        {"start_per_s", vms / started_s},
                        {"close_per_s", vms / closed_s},
                        {"create_p50_ms", percentile(create_ms, 0.5)},
                        {"create_p99_ms", percentile(create_ms, 0.99)},
                        {"total_s", seconds_since(t0)}};
  if (json) {
    std::cout << out.dump() << std::endl;
  } else {
    std::cout << out.dump(2) << std::endl;
  }
  return errors == 0 ? 0 : 1;
}

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
            int moderate_sleep_us, int threads, const std::string& guest, bool via_vm) {
  boot_files boot;
  uvm::engine_config cfg;
  cfg.host = uvm::detect_host();
  cfg.scheduler_policy = policy;
  cfg.moderate_sleep = std::chrono::microseconds{moderate_sleep_us};
  cfg.scheduler_threads = threads;
  cfg.sim_inline_completions = true;
  cfg.guest = guest;
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
  auto scsi = vm->scsi_controller();
  if (!scsi) {
    std::cerr << "hotplug: " << scsi.err().text << "\n";
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
      eng.system().spawn(hotplug_caller<uvm::scsi_actor>, *scsi, disk, deadline, stats, &done);
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
                        {"sim_inline_completions", cfg.sim_inline_completions},
                        {"seconds", elapsed},
                        {"ops", stats->ops},
                        {"errors", stats->errors},
                        {"ops_per_s", static_cast<double>(stats->ops) / elapsed},
                        {"add_p50_us", percentile(stats->add_us, 0.5)},
                        {"add_p99_us", percentile(stats->add_us, 0.99)},
                        {"release_p50_us", percentile(stats->release_us, 0.5)},
                        {"release_p99_us", percentile(stats->release_us, 0.99)}};
  if (!stats->first_error.empty()) {
    out["first_error"] = stats->first_error;
  }
  std::cout << (json ? out.dump() : out.dump(2)) << std::endl;
  return stats->errors == 0 ? 0 : 1;
}

int roundtrip(int calls, bool json) {
  boot_files boot;
  uvm::engine_config cfg;
  cfg.host = uvm::detect_host();
  uvm::engine eng{cfg};
  auto o = uvm::new_default_options_lcow("bench", "uvm-bench", cfg.host,
                                         [](const std::string& p) { return fs::exists(p); });
  o.boot_files_path = boot.dir.string();
  auto vm = eng.create_lcow(o);
  if (!vm) {
    std::cerr << vm.err().text << "\n";
    return 1;
  }
  auto t0 = clock_type::now();
  for (int i = 0; i < calls; ++i) {
    (void)vm->container_counter();
  }
  auto blocking_us = seconds_since(t0) * 1e6 / calls;

  // Asynchronous: one outstanding call at a time, each issued from the
  // previous one's callback, so both forms measure a round trip.
  latch done(1);
  std::atomic<int> left{calls};
  auto actor = vm->actor();
  std::function<void(caf::event_based_actor*)> step;
  step = [&](caf::event_based_actor* self) {
    self->request(actor, caf::infinite, uvm::counter_atom_v, uvm::counter_kind::uvm_mount)
        .then(
            [&, self](uint64_t) {
              if (--left == 0) {
                done.count_down();
              } else {
                step(self);
              }
            },
            [&](caf::error&) { done.count_down(); });
  };
  auto t1 = clock_type::now();
  eng.dispatch(step);
  done.wait();
  auto async_us = seconds_since(t1) * 1e6 / calls;
  (void)vm->close();
  nlohmann::json out = {{"bench", "roundtrip"},
                        {"calls", calls},
                        {"blocking_us", blocking_us},
                        {"async_us", async_us},
                        {"blocking_over_async", blocking_us / async_us}};
  std::cout << (json ? out.dump() : out.dump(2)) << std::endl;
  return 0;
}

std::runtime_error sys_error(const std::string& what) {
  std::string why = std::strerror(errno);
  return std::runtime_error(what + ": " + why);
}

// `gcs --listen` in a temp dir, and the host's connection to it. The
// destructor kills and reaps the child and removes the dir, on errors too.
class gcs_child {
public:
  gcs_child() {
    auto dir = (fs::temp_directory_path() / "uvm-bench-bridge-XXXXXX").string();
    if (::mkdtemp(dir.data()) == nullptr) {
      throw sys_error("mkdtemp");
    }
    dir_ = dir;
  }
  ~gcs_child() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  gcs_child(const gcs_child&) = delete;
  gcs_child& operator=(const gcs_child&) = delete;

  // Starts the agent and returns the connected socket.
  int start(const std::string& gcs) {
    if (::access(gcs.c_str(), X_OK) != 0) {
      throw sys_error("cannot run " + gcs);
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    auto sock = (dir_ / "gcs.sock").string();
    if (sock.size() >= sizeof addr.sun_path) {
      throw std::runtime_error("socket path too long: " + sock);
    }
    std::strcpy(addr.sun_path, sock.c_str());
    std::vector<std::string> args{gcs, "--listen", "unix:" + sock, "--stdio-dir", dir_.string()};
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) {
      throw sys_error("fork");
    }
    if (pid_ == 0) {
      // Our stdout is the report: the agent's output goes to stderr.
      ::dup2(2, 1);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    auto deadline = clock_type::now() + std::chrono::seconds{10};
    while (clock_type::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("gcs exited before accepting (wait status " +
                                 std::to_string(status) + ")");
      }
      if (fs::exists(sock)) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) {
          throw sys_error("socket");
        }
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
          return fd_;
        }
        // The agent binds before it listens: refused until then.
        if (errno != ECONNREFUSED) {
          throw sys_error("connect " + sock);
        }
        ::close(fd_);
        fd_ = -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    throw std::runtime_error("gcs did not listen on " + sock + " within 10 s");
  }

private:
  fs::path dir_;
  pid_t pid_ = -1;
  int fd_ = -1;
};

// The host end of the bridge as a single poll loop: frames queued by
// send() go out as the socket takes them, so many requests share a write.
class bridge_link {
public:
  explicit bridge_link(int fd) : fd_(fd) {}

  void send(uint32_t type, uint64_t id, std::string_view body) {
    out_ += uvm::bridge::encode_frame(type, id, body);
  }

  // Writes what the socket takes and appends the complete frames that
  // arrived to `in`; fails when the agent stalls, breaks the framing or
  // goes away.
  void pump(std::vector<uvm::bridge::frame>& in) {
    pollfd p{fd_, static_cast<short>(POLLIN | (out_.size() > sent_ ? POLLOUT : 0)), 0};
    int n = ::poll(&p, 1, 30000);
    if (n < 0) {
      if (errno == EINTR) {
        return;
      }
      throw sys_error("poll");
    }
    if (n == 0) {
      throw std::runtime_error("gcs made no progress for 30 s");
    }
    if ((p.revents & POLLOUT) != 0) {
      auto w = ::send(fd_, out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0 && errno != EAGAIN && errno != EINTR) {
        throw sys_error("bridge write");
      }
      sent_ += static_cast<size_t>(std::max<ssize_t>(w, 0));
      if (sent_ == out_.size()) {
        out_.clear();
        sent_ = 0;
      }
    }
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      char buf[65536];
      auto r = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (r == 0) {
        auto why = decoder_.at_eof();
        throw std::runtime_error("gcs closed the bridge" + (why.empty() ? "" : ": " + why));
      }
      if (r < 0) {
        if (errno == EAGAIN || errno == EINTR) {
          return;
        }
        throw sys_error("bridge read");
      }
      decoder_.feed(buf, static_cast<size_t>(r));
      while (auto f = decoder_.next()) {
        in.push_back(std::move(*f));
      }
      if (decoder_.failed()) {
        throw std::runtime_error(decoder_.error());
      }
    }
  }

private:
  int fd_;
  std::string out_;
  size_t sent_ = 0; // bytes of out_ already written
  uvm::bridge::frame_decoder decoder_;
};

void negotiate(bridge_link& link) {
  using namespace uvm::bridge;
  link.send(request_type(rpc::negotiate_protocol), 0, encode(negotiate_request{}));
  std::vector<frame> in;
  while (in.empty()) {
    link.pump(in);
  }
  if (in.front().type != response_type(rpc::negotiate_protocol) || in.front().id != 0) {
    throw std::runtime_error("unexpected " + type_name(in.front().type) + " to NegotiateProtocol");
  }
  auto r = parse_response(in.front().body);
  if (!r) {
    throw std::runtime_error(r.err().text);
  }
  if (!r->ok()) {
    throw std::runtime_error("NegotiateProtocol failed: " + r->error_message);
  }
  if (r->version != protocol_version) {
    throw std::runtime_error("unexpected version " + std::to_string(r->version.value_or(0)) +
                             " returned");
  }
}

// One in-flight slot: its own SCSI address and mount path, so that its
// adds and removes alternate validly whatever the other slots do.
struct disk_slot {
  std::string add_body;
  std::string remove_body;
  bool mounted = false;
};

// Bodies are built once: the bench measures the bridge, not JSON building.
std::vector<disk_slot> make_slots(size_t count) {
  std::vector<disk_slot> slots(count);
  for (size_t i = 0; i < count; ++i) {
    uvm::hcs::scsi_disk disk;
    disk.controller = static_cast<uint32_t>(i / 64);
    disk.lun = static_cast<uint32_t>(i % 64);
    disk.uvm_path = "/run/mounts/m" + std::to_string(i);
    uvm::bridge::modify_settings_request req;
    req.base.container_id = uvm::bridge::zero_guid;
    req.request = *uvm::hcs::scsi_add(uvm::hcs::guest_os::lcow, disk).guest;
    slots[i].add_body = uvm::bridge::encode(req);
    req.request = *uvm::hcs::scsi_remove(uvm::hcs::guest_os::lcow, disk).guest;
    slots[i].remove_body = uvm::bridge::encode(req);
  }
  return slots;
}

struct bridge_pass {
  double seconds = 0;
  std::vector<double> latency_us;
  uint64_t failures = 0;
  std::string first_error;
};

// `calls` ModifySettings with up to `window` in flight, on slots
// 0..window-1; responses are matched by id, in whatever order they come.
bridge_pass run_bridge_pass(bridge_link& link, std::vector<disk_slot>& slots, size_t window,
                            int calls, uint64_t& next_id) {
  using namespace uvm::bridge;
  struct pending {
    size_t slot;
    clock_type::time_point sent;
  };
  std::unordered_map<uint64_t, pending> in_flight;
  std::vector<size_t> idle(window);
  for (size_t i = 0; i < window; ++i) {
    idle[i] = i;
  }
  bridge_pass out;
  out.latency_us.reserve(static_cast<size_t>(calls));
  int sent = 0;
  int done = 0;
  std::vector<frame> in;
  auto t0 = clock_type::now();
  while (done < calls) {
    while (sent < calls && !idle.empty()) {
      auto s = idle.back();
      idle.pop_back();
      const auto& slot = slots[s];
      link.send(request_type(rpc::modify_settings), next_id,
                slot.mounted ? slot.remove_body : slot.add_body);
      in_flight.emplace(next_id++, pending{s, clock_type::now()});
      ++sent;
    }
    in.clear();
    link.pump(in);
    for (const auto& f : in) {
      if (is_notification(f.type)) {
        continue;
      }
      auto it = in_flight.find(f.id);
      if (f.type != response_type(rpc::modify_settings) || it == in_flight.end()) {
        throw std::runtime_error("bridge received unknown rpc response for id " +
                                 std::to_string(f.id) + ", type " + type_name(f.type));
      }
      out.latency_us.push_back(seconds_since(it->second.sent) * 1e6);
      auto r = parse_response(f.body);
      if (!r) {
        throw std::runtime_error(r.err().text);
      }
      auto& slot = slots[it->second.slot];
      if (r->ok()) {
        slot.mounted = !slot.mounted;
      } else if (out.failures++ == 0) {
        out.first_error = r->error_message;
      }
      idle.push_back(it->second.slot);
      in_flight.erase(it);
      ++done;
    }
  }
  out.seconds = seconds_since(t0);
  return out;
}

int bridge_bench(std::string gcs, int calls, int window, bool json) {
  if (gcs.empty()) {
    gcs = (fs::read_symlink("/proc/self/exe").parent_path() / "gcs").string();
  }
  try {
    gcs_child child;
    bridge_link link{child.start(gcs)};
    negotiate(link);
    uint64_t next_id = 1;
    auto slots = make_slots(static_cast<size_t>(window));
    auto piped = run_bridge_pass(link, slots, static_cast<size_t>(window), calls, next_id);
    auto single = run_bridge_pass(link, slots, 1, calls, next_id);
    auto rate = calls / piped.seconds;
    auto rate1 = calls / single.seconds;
    auto failures = piped.failures + single.failures;
    nlohmann::json out = {{"bench", "bridge"},
                          {"gcs", gcs},
                          {"calls", calls},
                          {"window", window},
                          {"seconds", piped.seconds},
                          {"round_trips_per_s", rate},
                          {"p50_us", percentile(piped.latency_us, 0.5)},
                          {"p99_us", percentile(piped.latency_us, 0.99)},
                          {"window1_seconds", single.seconds},
                          {"window1_round_trips_per_s", rate1},
                          {"window1_p50_us", percentile(single.latency_us, 0.5)},
                          {"window1_p99_us", percentile(single.latency_us, 0.99)},
                          {"pipelining_speedup", rate / rate1},
                          {"failures", failures}};
    if (failures > 0) {
      out["first_error"] = piped.failures > 0 ? piped.first_error : single.first_error;
    }
    std::cout << (json ? out.dump() : out.dump(2)) << std::endl;
    return failures == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "bridge: " << e.what() << "\n";
    return 1;
  }
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"uvm-bench: load and benchmark harness (simulated HCS)"};
  app.require_subcommand(1);
  bool json = false;
  app.add_flag("--json", json, "one JSON object on one line");

  int vms = 1000;
  int latency_us = 1000;
  auto* lc = app.add_subcommand("lifecycle", "create, start and close N VMs concurrently");
  lc->add_option("--vms", vms, "number of VMs")->check(CLI::Range(1, 1000000));
  lc->add_option("--latency-us", latency_us, "latency of every backend call")
      ->check(CLI::Range(0, 10000000));
  lc->add_flag("--json", json, "one JSON object on one line");

  int calls = 20000;
  auto* rt = app.add_subcommand("roundtrip", "blocking vs asynchronous VM call round trip");
  rt->add_option("--calls", calls, "number of calls")->check(CLI::Range(1, 100000000));
  rt->add_flag("--json", json, "one JSON object on one line");

  int callers = 64;
  double seconds = 5;
  int hp_latency_us = 1000;
  auto* hp = app.add_subcommand("hotplug", "SCSI add/remove loops of G callers on one VM");
  hp->add_option("--latency-us", hp_latency_us, "latency of every backend call")
      ->check(CLI::Range(0, 10000000));
  hp->add_option("--callers", callers, "concurrent callers (each its own disk)")
      ->check(CLI::Range(1, 256));
  hp->add_option("--seconds", seconds, "how long to run")->check(CLI::Range(0.1, 3600.0));
  hp->add_flag("--json", json, "one JSON object on one line");
  std::string policy = "stealing";
  int moderate_sleep_us = 50;
  int threads = 2;
  // The stub answers the guest step inside the engine, as the fakes of a
  // SCSI-manager benchmark do; in-process adds the bridge protocol and two
  // thread hops per guest request.
  std::string guest = "stub";
  hp->add_option("--scheduler", policy, "CAF scheduler policy")
      ->check(CLI::IsMember({"stealing", "sharing"}));
  hp->add_option("--guest", guest,
                 "the VM's guest agent: stub (the guest's mount table, no protocol; default), "
                 "in-process (the bridge protocol over a socketpair), in-process-unconfined, "
                 "exec:CMD, unix:PATH");
  hp->add_option("--scheduler-threads", threads, "CAF scheduler threads")->check(CLI::Range(1, 64));
  bool via_vm = false;
  hp->add_flag("--via-vm", via_vm,
               "send the calls to the VM, which routes them to its SCSI child (default: to the "
               "SCSI child, as handed out by the VM)");
  hp->add_option("--moderate-sleep-us", moderate_sleep_us,
                 "work stealing: idle worker sleep between polls")
      ->check(CLI::Range(0, 100000));

  std::string gcs;
  int br_calls = 200000;
  int window = 64;
  auto* br = app.add_subcommand("bridge", "pipelined GCS RPCs to a gcs child over a unix socket");
  br->add_option("--gcs", gcs, "the guest agent (default: gcs next to uvm-bench)");
  br->add_option("--calls", br_calls, "RPCs per pass")->check(CLI::Range(1, 100000000));
  // One slot per SCSI address: 4 controllers of 64 LUNs.
  br->add_option("--window", window, "RPCs in flight")->check(CLI::Range(1, 256));
  br->add_flag("--json", json, "one JSON object on one line");

  int runs = 5;
  std::string boot_files;
  auto* qb = app.add_subcommand("qemu", "real VMs on the QEMU backend: boot-to-ready and hot-add "
                                        "latencies (medians of several runs)");
  qb->add_option("--runs", runs, "VMs booted one after another")->check(CLI::Range(1, 100));
  qb->add_option("--boot-files", boot_files,
                 "LinuxBootFiles folder (default: qemu/LinuxBootFiles next to uvm-bench)");
  qb->add_flag("--json", json, "one JSON object on one line");

  CLI11_PARSE(app, argc, argv);
  if (*qb) {
    if (boot_files.empty()) {
      boot_files = uvm::detect_host().executable_dir + "/qemu/LinuxBootFiles";
    }
    return uvm::bench::qemu_bench(boot_files, runs, json);
  }
  if (*br) {
    return bridge_bench(gcs, br_calls, window, json);
  }
  if (*lc) {
    return lifecycle(vms, latency_us, json);
  }
  if (*hp) {
    return hotplug(hp_latency_us, callers, seconds, json, policy, moderate_sleep_us, threads, guest,
                   via_vm);
  }
  return roundtrip(calls, json);
}
