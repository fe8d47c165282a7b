// One side of a process's stdio across nodes, without actors: each stream
// this side reads (a source) runs on a thread that reads a chunk only when
// the other side granted credit for one, and each stream it writes (a
// sink) runs on a thread that writes the chunks it is given and grants a
// credit back per chunk written. A reader that stops reading therefore
// stops the writer at most `window` chunks later, whatever the distance.
// The owner turns the callbacks into messages and the messages into calls.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "messages/errors.hpp"

namespace uvm {

class stdio_pump {
public:
  static constexpr size_t chunk_size = 64 * 1024;
  static constexpr uint32_t window = 8; // chunks in flight per stream

  struct source {
    std::function<result<size_t>(char*, size_t)> read; // 0 at the end
    std::function<void()> cancel;                      // ends a blocked read (from another thread)
  };
  struct sink {
    std::function<error(std::string_view)> write;
    std::function<void()> close_write;
    std::function<void()> cancel; // ends a blocked write (from another thread)
  };
  // Called on the pump's threads.
  struct callbacks {
    std::function<void(uint8_t stream, std::string data)> data; // a source read a chunk
    std::function<void(uint8_t stream)> eof;                    // a source ended, or a sink broke
    std::function<void(uint8_t stream, uint32_t n)> credit;     // a sink wrote n chunks
    std::function<void(uint8_t stream)> finished;               // a stream is done on this side
  };

  explicit stdio_pump(callbacks cb) : cb_(std::move(cb)) {}
  ~stdio_pump() { stop(); }
  stdio_pump(const stdio_pump&) = delete;
  stdio_pump& operator=(const stdio_pump&) = delete;

  void add_source(uint8_t stream, source s);
  void add_sink(uint8_t stream, sink s);
  // For a source: `n` more chunks may be read.
  void grant(uint8_t stream, uint32_t n);
  // For a sink: a chunk to write, or the end of the data after them.
  void push(uint8_t stream, std::string data);
  void finish(uint8_t stream);
  // The other side will not take more of a source: end it.
  void abandon(uint8_t stream);
  // Bytes queued for sinks (bounded by window * chunk_size per stream).
  size_t queued_bytes() const;
  // Ends every stream and joins the threads.
  void stop();

private:
  struct lane {
    bool is_source = false;
    source src;
    sink snk;
    uint32_t credit = 0;
    std::deque<std::string> queue;
    size_t queued = 0;
    bool finishing = false; // sink: close after the queue
    bool ended = false;     // stop or abandon
    std::condition_variable cv;
    std::thread thread;
  };
  void run_source(uint8_t stream, lane& l);
  void run_sink(uint8_t stream, lane& l);

  callbacks cb_;
  mutable std::mutex mutex_;
  std::map<uint8_t, std::unique_ptr<lane>> lanes_;
  bool stopped_ = false;
};

} // namespace uvm
