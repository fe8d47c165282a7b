#include "tools/uvmctl/remote.hpp"

#include <condition_variable>
#include <csignal>
#include <iomanip>
#include <mutex>
#include <ostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "messages/events.hpp"

namespace uvm::cli {

namespace {

using json = nlohmann::ordered_json;

bool split_node(const std::string& text, std::string& host, uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size() ||
      text.size() - colon > 6) {
    return false;
  }
  host = text.substr(0, colon);
  unsigned long p = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9') {
      return false;
    }
    p = p * 10 + static_cast<unsigned long>(c - '0');
  }
  if (p == 0 || p > 65535) {
    return false;
  }
  port = static_cast<uint16_t>(p);
  return true;
}

// Prints the events of one node's bus.
struct printer_state {
  std::string node;
  std::ostream* out = nullptr;
  std::mutex* out_mutex = nullptr;
  std::function<void()> printed;
  static inline const char* name = "event_printer";
};

void print(caf::stateful_actor<printer_state>* self, json line) {
  auto& st = self->state;
  {
    std::lock_guard<std::mutex> lock{*st.out_mutex};
    *st.out << line.dump() << std::endl;
  }
  st.printed();
}

caf::behavior event_printer(caf::stateful_actor<printer_state>* self, caf::group bus,
                            printer_state init) {
  self->state = std::move(init);
  self->join(bus);
  auto base = [self](const char* event, const std::string& vm) {
    return json{{"node", self->state.node}, {"event", event}, {"vm", vm}};
  };
  return {
      [self, base](const vm_created_event& e) {
        auto j = base("created", e.vm_id);
        j["activity_id"] = e.activity_id;
        j["os"] = e.os;
        j["restarts"] = e.restarts;
        print(self, j);
      },
      [self, base](const vm_started_event& e) {
        auto j = base("started", e.vm_id);
        j["activity_id"] = e.activity_id;
        j["restarts"] = e.restarts;
        print(self, j);
      },
      [self, base](const vm_exited_event& e) {
        auto j = base("exited", e.vm_id);
        j["activity_id"] = e.activity_id;
        j["unexpected"] = e.unexpected;
        j["exit_error"] = e.exit_error;
        print(self, j);
      },
      [self, base](const vm_restart_event& e) {
        auto j = base("restart", e.vm_id);
        j["action"] = e.action;
        j["attempt"] = e.attempt;
        j["delay_ms"] = e.delay_ms;
        print(self, j);
      },
      [self, base](const vm_closed_event& e) {
        auto j = base("closed", e.vm_id);
        j["activity_id"] = e.activity_id;
        print(self, j);
      },
      [self, base](const device_event& e) {
        auto j = base("device", e.vm_id);
        j["activity_id"] = e.activity_id;
        j["kind"] = e.kind;
        j["action"] = e.action;
        j["host_path"] = e.host_path;
        j["slot"] = e.slot;
        print(self, j);
      },
      [self, base](const container_event& e) {
        auto j = base("container", e.vm_id);
        j["container_id"] = e.container_id;
        j["activity_id"] = e.activity_id;
        j["type"] = e.type;
        print(self, j);
      },
  };
}

} // namespace

result<node_engines> connect_nodes(const node_options& opts) {
  if (opts.insecure_plaintext && !opts.tls.empty()) {
    return error{errc::bad_request, "--insecure-plaintext takes no --cert, --key or --ca"};
  }
  if (!opts.insecure_plaintext &&
      (opts.tls.certificate.empty() || opts.tls.key.empty() || opts.tls.ca_file.empty())) {
    return error{errc::bad_request, "--node needs --cert, --key and --ca (mutual TLS), or "
                                    "--insecure-plaintext for a plaintext node on 127.0.0.1"};
  }
  node_engines out;
  for (const auto& text : opts.nodes) {
    std::string host;
    uint16_t port = 0;
    if (!split_node(text, host, port)) {
      return error{errc::bad_request, "--node must be HOST:PORT, got '" + text + "'"};
    }
    auto eng = engine::connect(host, port, opts.tls);
    if (!eng) {
      return eng.err();
    }
    out.push_back(std::move(*eng));
  }
  return out;
}

int run_list(node_engines& nodes, bool as_json, std::ostream& out) {
  json all = json::array();
  for (auto& eng : nodes) {
    auto vms = eng->list();
    if (!vms) {
      out.flush();
      std::cerr << "uvmctl list: " << vms.err().text << "\n";
      return 1;
    }
    for (const auto& v : *vms) {
      all.push_back({{"node", eng->node()},
                     {"id", v.id},
                     {"owner", v.owner},
                     {"os", v.os},
                     {"processor_count", v.processor_count},
                     {"memory_size_in_mb", v.memory_size_in_mb},
                     {"state", to_string(v.state)},
                     {"restarts", v.restarts}});
    }
  }
  if (as_json) {
    out << all.dump() << "\n";
    return 0;
  }
  out << std::left << std::setw(22) << "NODE" << std::setw(40) << "ID" << std::setw(9) << "OS"
      << std::setw(10) << "STATE"
      << "RESTARTS\n";
  for (const auto& v : all) {
    out << std::setw(22) << v["node"].get<std::string>() << std::setw(40)
        << v["id"].get<std::string>() << std::setw(9) << v["os"].get<std::string>() << std::setw(10)
        << v["state"].get<std::string>() << v["restarts"].get<uint32_t>() << "\n";
  }
  return 0;
}

int run_events(node_engines& nodes, int count, std::ostream& out) {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  std::mutex out_mutex;
  std::mutex count_mutex;
  std::condition_variable enough;
  int printed = 0;
  std::vector<caf::actor> printers;
  for (auto& eng : nodes) {
    printer_state init;
    init.node = eng->node();
    init.out = &out;
    init.out_mutex = &out_mutex;
    init.printed = [&] {
      std::lock_guard<std::mutex> lock{count_mutex};
      ++printed;
      enough.notify_all();
    };
    printers.push_back(eng->system().spawn(event_printer, eng->events(), init));
  }
  json following = json::array();
  for (auto& eng : nodes) {
    following.push_back(eng->node());
  }
  {
    std::lock_guard<std::mutex> lock{out_mutex};
    out << json{{"following", following}}.dump() << std::endl;
  }
  // A signal ends the wait as the last event would.
  std::thread signals([&] {
    int sig = 0;
    sigwait(&stop, &sig);
    std::lock_guard<std::mutex> lock{count_mutex};
    printed = -1;
    enough.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock{count_mutex};
    enough.wait(lock, [&] { return printed < 0 || (count > 0 && printed >= count); });
  }
  for (auto& p : printers) {
    caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
  }
  if (printed >= 0) {
    pthread_kill(signals.native_handle(), SIGTERM);
  }
  signals.join();
  return 0;
}

} // namespace uvm::cli
