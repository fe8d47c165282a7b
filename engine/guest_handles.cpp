#include "engine/guest_handles.hpp"

#include <mutex>
#include <optional>

#include "engine/blocking_call.hpp"

namespace uvm {

struct guest_process::shared {
  caf::actor_system* sys = nullptr;
  utility_vm_actor vm;
  std::chrono::milliseconds timeout{0};
  process_started started;
  mutable std::mutex mutex;
  std::optional<uint32_t> exit_code;

  ~shared() {
    if (vm) {
      caf::anon_send(vm, forget_process_atom_v, started.container_id, started.pid);
    }
  }
};

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
  if (!s_) {
    return error{errc::invalid_state, "no process"};
  }
  auto r = call_value<uint32_t>(*s_->sys, s_->vm, std::chrono::milliseconds{0}, wait_process_atom_v,
                                s_->started.container_id, s_->started.pid);
  if (r) {
    std::lock_guard<std::mutex> lock{s_->mutex};
    s_->exit_code = *r;
  }
  return r;
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
  if (!s_) {
    return error{errc::invalid_state, "no process"};
  }
  return call_value<bool>(*s_->sys, s_->vm, s_->timeout, signal_process_atom_v,
                          s_->started.container_id, s_->started.pid, signo, activity);
}

result<bool> guest_process::kill(const std::string& activity) {
  return signal(0, activity);
}

error guest_process::resize_console(uint16_t width, uint16_t height, const std::string& activity) {
  if (!s_) {
    return error{errc::invalid_state, "no process"};
  }
  return call_ok(*s_->sys, s_->vm, s_->timeout, resize_console_atom_v, s_->started.container_id,
                 s_->started.pid, width, height, activity);
}

void guest_process::close() {
  if (s_ && s_->started.stdio) {
    s_->started.stdio->close();
  }
}

result<guest_process> start_guest_process(caf::actor_system& sys, const utility_vm_actor& vm,
                                          std::chrono::milliseconds timeout, process_request req) {
  auto started = call_value<process_started>(sys, vm, timeout, exec_process_atom_v, std::move(req));
  if (!started) {
    return started.err();
  }
  auto s = std::make_shared<guest_process::shared>();
  s->sys = &sys;
  s->vm = vm;
  s->timeout = timeout;
  s->started = std::move(*started);
  return guest_process{std::move(s)};
}

error guest_container::start(const std::string& activity) {
  return call_ok(*sys_, vm_, timeout_, start_container_atom_v, id_, activity);
}

error guest_container::shutdown(const std::string& activity) {
  return call_ok(*sys_, vm_, timeout_, stop_container_atom_v, id_, false, activity);
}

error guest_container::terminate(const std::string& activity) {
  return call_ok(*sys_, vm_, timeout_, stop_container_atom_v, id_, true, activity);
}

error guest_container::wait() {
  return call_ok(*sys_, vm_, std::chrono::milliseconds{0}, wait_container_atom_v, id_);
}

result<guest_process> guest_container::create_process(const std::string& parameters,
                                                      const std::string& activity) {
  return start_guest_process(*sys_, vm_, timeout_, process_request{id_, parameters, activity});
}

} // namespace uvm
