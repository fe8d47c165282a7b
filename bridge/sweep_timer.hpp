// One timer on the engine's I/O loop for the RPC deadlines of every bridge.
// A bridge with calls in flight asks to be woken at its earliest deadline
// and cancels that once nothing with a deadline is left. A delayed message
// per bridge instead would cost a push to CAF's clock thread and a wake-up
// of it for every VM that makes a call (about a fifth of what creating a VM
// costs), and another push when the bridge ends.
//
// The timer ticks every `resolution` while anything is scheduled and stops
// when nothing is: a deadline is seen at most `resolution` late.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace uvm::bridge {

class io_loop;

class sweep_timer {
public:
  using clock = std::chrono::steady_clock;
  // What cancel() needs; a default one names nothing.
  struct ticket {
    clock::time_point due{};
    uint64_t id = 0;
    explicit operator bool() const { return id != 0; }
  };

  // `io` runs the timer and the wake-ups.
  sweep_timer(std::shared_ptr<io_loop> io, std::chrono::milliseconds resolution);
  ~sweep_timer();
  sweep_timer(const sweep_timer&) = delete;
  sweep_timer& operator=(const sweep_timer&) = delete;

  // Calls `wake` once on an I/O thread after `due` has passed (at most
  // `resolution` late), unless cancelled first.
  ticket schedule(clock::time_point due, std::function<void()> wake);
  // Forgets a wake-up that has not been taken to run; one that has, or a
  // default ticket, is ignored.
  void cancel(const ticket& t);
  // Wake-ups scheduled and not yet run.
  size_t scheduled() const;

private:
  struct state;
  std::shared_ptr<io_loop> io_; // before state_: the timer goes before its loop
  std::shared_ptr<state> state_;
};

// The resolution for RPCs that time out after `timeout`: a quarter of it,
// between 1 ms and 100 ms.
std::chrono::milliseconds sweep_resolution(std::chrono::milliseconds timeout);

} // namespace uvm::bridge
