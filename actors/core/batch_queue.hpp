// Items that leave together, for an actor that sends them across the
// network: what is queued while a batch is being made leaves with it, so a
// burst costs one message per batch instead of one per item. The first
// item since the last batch asks the owner to flush (a message to itself,
// which comes round after what is already in its mailbox); a full batch
// leaves at once, so that no message grows past `limit` items.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace uvm {

template <class T>
class batch_queue {
public:
  explicit batch_queue(size_t limit) : limit_(limit) {}

  // Queues `item`. Then, if the batch is full, `send(batch)`; else, if it
  // is the first item since the last flush, `ask_flush()`.
  template <class Send, class AskFlush>
  void push(T item, Send&& send, AskFlush&& ask_flush) {
    items_.push_back(std::move(item));
    if (items_.size() >= limit_) {
      send(take());
    } else if (!flush_asked_) {
      flush_asked_ = true;
      ask_flush();
    }
  }

  // The flush came round: everything queued meanwhile (nothing, if a full
  // batch left since); the next push asks again.
  std::vector<T> flush() {
    flush_asked_ = false;
    return take();
  }

  // Everything queued, now.
  std::vector<T> take() {
    std::vector<T> out;
    out.swap(items_);
    return out;
  }

  bool empty() const { return items_.empty(); }

private:
  size_t limit_;
  std::vector<T> items_;
  bool flush_asked_ = false;
};

} // namespace uvm
