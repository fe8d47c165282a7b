// The engine's shared I/O: one event loop (Boost.Asio) run by a small fixed
// pool of threads. Every bridge connection of every VM and the in-process
// guest agents are served on it (bridge/byte_stream.hpp), so the engine's
// thread count does not grow with the number of VMs.
#pragma once

#include <memory>
#include <thread>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace uvm::bridge {

class io_loop {
public:
  // `threads` >= 1.
  explicit io_loop(unsigned threads);
  // Stops the loop and joins its threads; work still queued is dropped
  // (destroyed, not run).
  ~io_loop();
  io_loop(const io_loop&) = delete;
  io_loop& operator=(const io_loop&) = delete;

  unsigned threads() const { return static_cast<unsigned>(threads_.size()); }
  // For the streams' implementations.
  boost::asio::io_context& context() { return *context_; }

private:
  struct work;
  std::unique_ptr<boost::asio::io_context> context_;
  std::unique_ptr<work> work_;
  std::vector<std::thread> threads_;
};

} // namespace uvm::bridge
