// Containers and processes in a utility VM's guest, for the embedding API:
// hcsshim's cow.Container and cow.Process over the GCS bridge (uvm-api.md
// §6). Each call is a request to the VM's actor, blocking or, through
// call(c, done, due) with a description of engine/calls.hpp, asynchronous;
// drop the handles before their engine.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "bridge/stdio_relay.hpp"
#include <caf/all.hpp>

#include "engine/call.hpp"

#include "messages/caf/interfaces.hpp"
#include "messages/caf/registration.hpp"

namespace uvm {

namespace calls {
struct process_wait;
struct process_close;
} // namespace calls

class guest_process {
public:
  guest_process() = default;

  uint32_t pid() const;
  // The bridge's container id: the null GUID for a process of the VM itself.
  const std::string& container_id() const;
  // The host's ends of the requested stdio channels (null when not asked for).
  bridge::stdio_channel* std_in() const;
  bridge::stdio_channel* std_out() const;
  bridge::stdio_channel* std_err() const;
  // Writes `input` to stdin and closes it, while reading stdout and stderr
  // to their ends.
  result<bridge::process_output> communicate(std::string_view input);
  // Half-closes stdin (once).
  error close_stdin();
  // The exit code, waiting for it; the bridge's or the VM's end fails it.
  // The guest reports an exit only once the process's output streams were
  // read to their end or closed (gcs-bridge.md §9): read them, or close().
  result<uint32_t> wait();
  // The exit code once known, else `process not exited`.
  result<uint32_t> exit_code() const;
  // Delivered or not (an unknown process is not an error).
  result<bool> signal(int32_t signo, const std::string& activity = {});
  result<bool> kill(const std::string& activity = {});
  error resize_console(uint16_t width, uint16_t height, const std::string& activity = {});
  // Closes the stdio channels; the process runs on and can still be waited for.
  void close();

  // Any call on the process (calls::process_*), blocking or asynchronous.
  template <class C>
  call_outcome_t<C> call(const C& c) const {
    return call_blocking(*this, c);
  }
  template <class C>
  void call(C c, std::function<void(call_outcome_t<C>)> done, call_deadline due = {}) const {
    call_async(*this, std::move(c), std::move(done), due);
  }
  call_site site() const;
  // Whether the handle holds a process (a default-constructed one does not).
  bool valid() const { return s_ != nullptr; }

  struct shared;
  explicit guest_process(std::shared_ptr<shared> s) : s_(std::move(s)) {}

private:
  friend struct calls::process_wait;
  friend struct calls::process_close;
  void record_exit(uint32_t code) const;
  void close_stdio() const;

  std::shared_ptr<shared> s_;
};

class guest_container {
public:
  guest_container() = default;
  guest_container(call_site site, std::string id) : site_(std::move(site)), id_(std::move(id)) {}

  const std::string& id() const { return id_; }
  error start(const std::string& activity = {});
  // ShutdownGraceful / ShutdownForced; a container already gone is stopped.
  error shutdown(const std::string& activity = {});
  error terminate(const std::string& activity = {});
  // Until the container's exit notification, or the end of the bridge.
  error wait();
  // A process in the container: parameters without OciProcess start the
  // container's init process.
  result<guest_process> create_process(const std::string& parameters,
                                       const std::string& activity = {});

  // Any call on the container (calls::container_*), blocking or asynchronous.
  template <class C>
  call_outcome_t<C> call(const C& c) const {
    return call_blocking(*this, c);
  }
  template <class C>
  void call(C c, std::function<void(call_outcome_t<C>)> done, call_deadline due = {}) const {
    call_async(*this, std::move(c), std::move(done), due);
  }
  const call_site& site() const { return site_; }

private:
  call_site site_;
  std::string id_;
};

// The handle of a process the guest started through `site`'s VM.
guest_process make_guest_process(call_site site, process_started started);

} // namespace uvm
