// A QMP (QEMU Machine Protocol) client on a unix socket: the greeting and
// capabilities negotiation, commands with ids answered from a reader
// thread, and asynchronous events (DEVICE_DELETED, SHUTDOWN, ...) kept in
// a short history so that a caller can wait for an event that may already
// have arrived. When QEMU goes away every waiting call fails with the
// cause and the close handler runs once, on the reader thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "messages/errors.hpp"

namespace uvm::hcs::qemu {

class qmp_client {
public:
  struct event {
    uint64_t sequence = 0;
    std::string name;
    nlohmann::json data;
  };
  using close_handler = std::function<void(const std::string& why)>;

  // Dials `path` until it accepts (QEMU creates it shortly after launch) or
  // `timeout` passes or `alive` says the peer died, then negotiates.
  static result<std::unique_ptr<qmp_client>> connect(const std::string& path,
                                                     std::chrono::milliseconds timeout,
                                                     const std::function<bool()>& alive,
                                                     close_handler on_close);
  ~qmp_client();
  qmp_client(const qmp_client&) = delete;
  qmp_client& operator=(const qmp_client&) = delete;

  // The command's "return" value, or its error as "<class>: <desc>".
  result<nlohmann::json> execute(const std::string& command,
                                 const nlohmann::json& arguments = nlohmann::json::object(),
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // The sequence number the next event will carry.
  uint64_t next_event() const;
  // The first event named `name` with sequence >= `since` whose data
  // satisfies `match`; an error on timeout or when the connection ends.
  result<event> wait_event(const std::string& name, uint64_t since,
                           const std::function<bool(const nlohmann::json&)>& match,
                           std::chrono::milliseconds timeout);
  // Ends the connection; the close handler does not run afterwards.
  void shut();
  // True once QEMU's end closed (or shut() was called).
  bool closed() const;

private:
  qmp_client(int fd, close_handler on_close);
  void read_loop();
  void on_line(const std::string& line);
  void fail_all(const std::string& why);

  int fd_ = -1;
  close_handler on_close_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::optional<result<nlohmann::json>>> replies_;
  std::deque<event> events_;
  uint64_t next_event_ = 0;
  std::optional<std::string> closed_;
  bool shut_ = false;
  std::thread reader_;
};

} // namespace uvm::hcs::qemu
