// uvm-bench bridge: pipelined GCS RPCs to a guest agent: our gcs started on
// a unix socket, any agent started with its stdio as the bridge (exec:CMD,
// split in words as the engine's exec: guest does), or one that listens on
// a unix socket (unix:PATH).
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "bench/bench_util.hpp"
#include "bench/benches.hpp"
#include "bridge/command_line.hpp"
#include "bridge/guest_link.hpp"
#include "bridge/protocol.hpp"
#include "bridge/rpc_messages.hpp"
#include "hcs/device_requests.hpp"

namespace uvm::bench {

namespace {

std::runtime_error sys_error(const std::string& what) {
  std::string why = std::strerror(errno);
  return std::runtime_error(what + ": " + why);
}

// The guest agent under test and the host's connection to it: `gcs
// --listen` in a temp dir, an exec: child on a socketpair, or a dialled
// socket. The destructor kills and reaps a child it started and removes
// the dir, on errors too.
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

  // exec:CMD or unix:PATH; returns the connected socket.
  int open(const std::string& guest) {
    if (guest.rfind("unix:", 0) == 0) {
      return dial(guest.substr(5));
    }
    if (guest.rfind("exec:", 0) == 0) {
      return start_exec(guest.substr(5));
    }
    throw std::runtime_error("--guest must be exec:CMD or unix:PATH, not '" + guest + "'");
  }

  // Starts our gcs on a unix socket and returns the connected socket.
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
  int dial(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path) {
      throw std::runtime_error("bad guest socket path '" + path + "'");
    }
    std::strcpy(addr.sun_path, path.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      throw sys_error("socket");
    }
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw sys_error("connect " + path);
    }
    return fd_;
  }

  int start_exec(const std::string& command) {
    auto words = uvm::bridge::split_command_line(command);
    if (!words) {
      throw std::runtime_error(words.err().text);
    }
    if (words->empty()) {
      throw std::runtime_error("exec: needs a command");
    }
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      throw sys_error("socketpair");
    }
    std::vector<char*> argv;
    for (auto& w : *words) {
      argv.push_back(w.data());
    }
    argv.push_back(nullptr);
    // Where the host's stdio relays would listen, as the engine tells an
    // exec: agent (the bench opens no stdio).
    auto env = std::string{uvm::bridge::stdio_dir_variable} + "=" + dir_.string();
    pid_ = ::fork();
    if (pid_ < 0) {
      throw sys_error("fork");
    }
    if (pid_ == 0) {
      ::putenv(env.data());
      ::dup2(pair[1], 0);
      ::dup2(pair[1], 1);
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(pair[1]);
    fd_ = pair[0];
    return fd_;
  }

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

} // namespace

int bridge_bench(std::string gcs, const std::string& guest, int calls, int window, bool json) {
  if (gcs.empty() && guest.empty()) {
    gcs = (fs::read_symlink("/proc/self/exe").parent_path() / "gcs").string();
  }
  try {
    gcs_child child;
    bridge_link link{guest.empty() ? child.start(gcs) : child.open(guest)};
    negotiate(link);
    uint64_t next_id = 1;
    auto slots = make_slots(static_cast<size_t>(window));
    auto piped = run_bridge_pass(link, slots, static_cast<size_t>(window), calls, next_id);
    auto single = run_bridge_pass(link, slots, 1, calls, next_id);
    auto rate = calls / piped.seconds;
    auto rate1 = calls / single.seconds;
    auto failures = piped.failures + single.failures;
    nlohmann::json out = {{"bench", "bridge"},
                          {"guest", guest.empty() ? "gcs:" + gcs : guest},
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

} // namespace uvm::bench
