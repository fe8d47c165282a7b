#include "actors/core/stdio_pump.hpp"

#include <algorithm>
#include <vector>

namespace uvm {

void stdio_pump::add_source(uint8_t stream, source s) {
  std::lock_guard<std::mutex> lock{mutex_};
  if (stopped_ || lanes_.count(stream) > 0) {
    return;
  }
  auto& l = lanes_[stream];
  l = std::make_unique<lane>();
  l->is_source = true;
  l->src = std::move(s);
  auto* raw = l.get();
  l->thread = std::thread([this, stream, raw] { run_source(stream, *raw); });
}

void stdio_pump::add_sink(uint8_t stream, sink s) {
  std::lock_guard<std::mutex> lock{mutex_};
  if (stopped_ || lanes_.count(stream) > 0) {
    return;
  }
  auto& l = lanes_[stream];
  l = std::make_unique<lane>();
  l->snk = std::move(s);
  auto* raw = l.get();
  l->thread = std::thread([this, stream, raw] { run_sink(stream, *raw); });
}

void stdio_pump::grant(uint8_t stream, uint32_t n) {
  std::lock_guard<std::mutex> lock{mutex_};
  auto i = lanes_.find(stream);
  if (i != lanes_.end() && i->second->is_source) {
    // More than a window of credit is a peer's mistake: cap it.
    i->second->credit = std::min(i->second->credit + n, window);
    i->second->cv.notify_all();
  }
}

void stdio_pump::push(uint8_t stream, std::string data) {
  std::lock_guard<std::mutex> lock{mutex_};
  auto i = lanes_.find(stream);
  if (i == lanes_.end() || i->second->is_source || i->second->finishing) {
    return;
  }
  auto& l = *i->second;
  // A peer that sends past its credit is dropped, not buffered.
  if (l.queue.size() >= window || data.size() > chunk_size) {
    return;
  }
  l.queued += data.size();
  l.queue.push_back(std::move(data));
  l.cv.notify_all();
}

void stdio_pump::finish(uint8_t stream) {
  std::lock_guard<std::mutex> lock{mutex_};
  auto i = lanes_.find(stream);
  if (i != lanes_.end() && !i->second->is_source) {
    i->second->finishing = true;
    i->second->cv.notify_all();
  }
}

void stdio_pump::abandon(uint8_t stream) {
  std::function<void()> cancel;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    auto i = lanes_.find(stream);
    if (i == lanes_.end() || !i->second->is_source || i->second->ended) {
      return;
    }
    i->second->ended = true;
    i->second->cv.notify_all();
    cancel = i->second->src.cancel;
  }
  if (cancel) {
    cancel();
  }
}

size_t stdio_pump::queued_bytes() const {
  std::lock_guard<std::mutex> lock{mutex_};
  size_t n = 0;
  for (const auto& [stream, l] : lanes_) {
    n += l->queued;
  }
  return n;
}

void stdio_pump::stop() {
  std::vector<std::function<void()>> cancels;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    if (stopped_) {
      return;
    }
    stopped_ = true;
    for (auto& [stream, l] : lanes_) {
      l->ended = true;
      l->cv.notify_all();
      auto& c = l->is_source ? l->src.cancel : l->snk.cancel;
      if (c) {
        cancels.push_back(c);
      }
    }
  }
  for (auto& c : cancels) {
    c();
  }
  for (auto& [stream, l] : lanes_) {
    if (l->thread.joinable()) {
      l->thread.join();
    }
  }
}

void stdio_pump::run_source(uint8_t stream, lane& l) {
  std::vector<char> buf(chunk_size);
  for (;;) {
    {
      std::unique_lock<std::mutex> lock{mutex_};
      l.cv.wait(lock, [&] { return l.ended || l.credit > 0; });
      if (l.ended) {
        break;
      }
      --l.credit;
    }
    auto n = l.src.read(buf.data(), buf.size());
    {
      std::lock_guard<std::mutex> lock{mutex_};
      if (l.ended) {
        break;
      }
    }
    if (!n || *n == 0) {
      break;
    }
    cb_.data(stream, std::string{buf.data(), *n});
  }
  // The end of the data, whatever ended it: the other side's sink closes.
  cb_.eof(stream);
  cb_.finished(stream);
}

void stdio_pump::run_sink(uint8_t stream, lane& l) {
  bool broken = false;
  for (;;) {
    std::string chunk;
    {
      std::unique_lock<std::mutex> lock{mutex_};
      l.cv.wait(lock, [&] { return l.ended || !l.queue.empty() || l.finishing; });
      if (l.ended) {
        break;
      }
      if (l.queue.empty()) {
        if (!broken) {
          lock.unlock();
          l.snk.close_write();
        }
        break;
      }
      chunk = std::move(l.queue.front());
      l.queue.pop_front();
      l.queued -= chunk.size();
    }
    if (!broken && l.snk.write(chunk)) {
      // Nobody reads this stream any more: the other side stops its source.
      broken = true;
      cb_.eof(stream);
    }
    if (!broken) {
      cb_.credit(stream, 1);
    }
  }
  cb_.finished(stream);
}

} // namespace uvm
