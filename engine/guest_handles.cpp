#include "engine/guest_handles.hpp"

#include <mutex>
#include <optional>

#include "engine/calls.hpp"

namespace uvm {

struct guest_process::shared {
  call_site site;
  process_started started;
  mutable std::mutex mutex;
  std::optional<uint32_t> exit_code;

  ~shared() {
    if (site.to) {
      caf::anon_send(site.to, forget_process_atom_v, started.container_id, started.pid);
    }
  }
};

call_site guest_process::site() const {
  return s_ ? s_->site : call_site{};
}

uint32_t guest_process::pid() const {
  return s_ ? s_->started.pid : 0;
}

const std::string& guest_process::container_id() const {
  static const std::string none;
  return s_ ? s_->started.container_id : none;
}

bridge::stdio_channel* guest_process::std_in() const {
  return s_ && s_->started.stdio ? s_->started.stdio->in.get() : nullptr;
}

bridge::stdio_channel* guest_process::std_out() const {
  return s_ && s_->started.stdio ? s_->started.stdio->out.get() : nullptr;
}

bridge::stdio_channel* guest_process::std_err() const {
  return s_ && s_->started.stdio ? s_->started.stdio->err.get() : nullptr;
}

result<bridge::process_output> guest_process::communicate(std::string_view input) {
  if (!s_ || !s_->started.stdio) {
    return error{errc::invalid_state, "the process has no stdio"};
  }
  return s_->started.stdio->communicate(input);
}

error guest_process::close_stdin() {
  auto* in = std_in();
  if (in == nullptr) {
    return error{errc::invalid_state, "the process has no stdin"};
  }
  return in->close_write();
}

result<uint32_t> guest_process::wait() {
  return call(calls::process_wait{});
}

void guest_process::record_exit(uint32_t code) const {
  std::lock_guard<std::mutex> lock{s_->mutex};
  s_->exit_code = code;
}

result<uint32_t> guest_process::exit_code() const {
  if (s_) {
    std::lock_guard<std::mutex> lock{s_->mutex};
    if (s_->exit_code) {
      return *s_->exit_code;
    }
  }
  return error{errc::invalid_state, "process not exited"};
}

result<bool> guest_process::signal(int32_t signo, const std::string& activity) {
  return call(calls::process_signal{signo, activity});
}

result<bool> guest_process::kill(const std::string& activity) {
  return call(calls::process_kill{activity});
}

error guest_process::resize_console(uint16_t width, uint16_t height, const std::string& activity) {
  return call(calls::process_resize_console{width, height, activity});
}

void guest_process::close() {
  call(calls::process_close{});
}

void guest_process::close_stdio() const {
  if (s_ && s_->started.stdio) {
    s_->started.stdio->close();
  }
}

guest_process make_guest_process(call_site site, process_started started) {
  auto s = std::make_shared<guest_process::shared>();
  s->site = std::move(site);
  s->started = std::move(started);
  return guest_process{std::move(s)};
}

error guest_container::start(const std::string& activity) {
  return call(calls::container_start{activity});
}

error guest_container::shutdown(const std::string& activity) {
  return call(calls::container_shutdown{activity});
}

error guest_container::terminate(const std::string& activity) {
  return call(calls::container_terminate{activity});
}

error guest_container::wait() {
  return call(calls::container_wait{});
}

result<guest_process> guest_container::create_process(const std::string& parameters,
                                                      const std::string& activity) {
  return call(calls::container_create_process{parameters, activity});
}

} // namespace uvm
