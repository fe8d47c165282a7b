// Our guest agent's protocol core (`gcs`): it serves the RPCs of
// gcs-bridge.md §7 the way hcsshim's Linux GCS does on the wire
// (gcs-interop.md): negotiate first and exactly once, responses in
// completion order, HRESULTs and error records, container exit
// notifications with the Create's ActivityId. Processes are real (see
// process.hpp); ModifySettings keeps the guest's mount table and, inside a
// utility VM (mount_mode::real), also performs the mounts (mounter.hpp).
// Containers run their processes without an OCI runtime, with the
// container's OCI process spec (args, env, cwd) and the OCI root.path as
// their root when there is one: each in a sandbox of its own by default
// (guest/sandbox.hpp), or, unconfined, in the agent's own namespaces.
//
// Transport-free: frames come in through handle(), responses and
// notifications go out through the send function, from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bridge/mount_table.hpp"
#include "bridge/protocol.hpp"
#include "bridge/rpc_messages.hpp"
#include "guest/log.hpp"
#include "guest/mount_mode.hpp"
#include "guest/mounter.hpp"
#include "guest/process.hpp"
#include "guest/sandbox.hpp"

namespace uvm::guest {

enum class confinement { sandboxed, unconfined };

struct service_options {
  // Stdio relay port P is the unix socket "<stdio_dir>/port-P.sock", which
  // the host listens on before ExecuteProcess (the vsock model over unix
  // sockets).
  std::string stdio_dir;
  // When set, relay port P is dialed through this instead (in a VM: a
  // bridge::stdio_mux over the virtio-serial port "stdio").
  std::function<result<int>(uint32_t port)> dial_stdio;
  // Fault injection for tests: while positive, each ModifySettings takes
  // one and fails with E_FAIL "injected guest fault".
  std::shared_ptr<std::atomic<uint32_t>> modify_faults;
  // The mount table, shared so that an in-process host can show it; made
  // by the service when absent.
  std::shared_ptr<bridge::mount_table> mounts;
  mount_mode mounting = mount_mode::table;
  // How processes run: sandboxed (guest/sandbox.hpp), the default for an
  // agent on the engine's own host; unconfined, as the agent's children,
  // for gcs inside a utility VM (the VM is the sandbox).
  confinement confine = confinement::sandboxed;
  sandbox_options sandbox;
  // What an operator must know (processes unconfined on the host, no
  // cgroup for the sandbox's limits); stderr when empty.
  std::function<void(const std::string&)> warn;
  // The agent's log channel (guest/log.hpp); when set, warnings go there
  // too instead of to `warn`.
  std::shared_ptr<const guest_log> log;
};

// Logs `message` as a warning on options.log, else passes it to
// options.warn, or to stderr.
void warn(const service_options& options, const std::string& message);

class service {
public:
  // Must be callable from any thread; one frame per call.
  using send_fn = std::function<void(uint32_t type, uint64_t id, const std::string& body)>;

  service(service_options opts, send_fn send);
  // Kills what still runs and waits for the agent's threads.
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  void handle(const bridge::frame& f);
  // True once the host asked the null container to shut down: the
  // transport should end the connection.
  bool stopping() const;

private:
  struct container {
    std::string activity_id; // the Create's: its exit notification carries it
    process_spec init;
    std::string root; // the OCI root.path its processes are chrooted to; "" = none
    std::shared_ptr<process> init_process;
    std::map<uint32_t, std::shared_ptr<process>> processes;
    std::string exit_type = "UnexpectedExit";
  };

  void reply(uint32_t request_type, uint64_t id, const bridge::response& r);
  // Runs `job` on a thread of its own (slow handlers: waits, process starts).
  void spawn(std::function<void()> job);

  bridge::response negotiate_protocol(const std::string& body);
  bridge::response create(const std::string& body);
  bridge::response start(const std::string& body);
  bridge::response shutdown(const std::string& body, bool forced);
  bridge::response execute_process(const std::string& body);
  void wait_for_process(uint32_t type, uint64_t id, const std::string& body);
  bridge::response signal_process(const std::string& body);
  bridge::response resize_console(const std::string& body);
  bridge::response get_properties(const std::string& body);
  bridge::response modify_settings(const std::string& body);
  bridge::response dump_stacks(const std::string& body);
  bridge::response delete_container_state(const std::string& body);

  void log_started(const std::string& container_id, uint32_t pid,
                   const std::string& activity) const;
  // Watches a container's init process and sends its exit notification.
  void watch_init(const std::string& container_id, std::shared_ptr<process> init);

  service_options opts_;
  send_fn send_;
  mutable std::mutex mutex_;
  bool negotiated_ = false;
  bool stopping_ = false;
  std::shared_ptr<bridge::mount_table> mounts_;
  std::optional<mounter> mounter_; // mount_mode::real only
  std::map<uint32_t, std::shared_ptr<process>> uvm_processes_;
  std::map<std::string, container> containers_;
  // Handler threads; finished ones are joined when the next one starts.
  struct worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<worker> threads_;
};

} // namespace uvm::guest
