// Recognises a backend completion that arrives inside the call that caused
// it (the simulator's inline completions), so that an actor can handle the
// result at once instead of posting a message to itself. A completion on
// another thread, or after the call returned, is left to the caller's usual
// path (`keep` says false).
//
// Only the calling thread touches `open_` and `result_`: any other thread
// fails the thread check first.
#pragma once

#include <optional>
#include <thread>
#include <utility>

#include "hcs/backend.hpp"

namespace uvm::hcs {

class inline_completion {
public:
  inline_completion() : caller_(std::this_thread::get_id()) {}

  // In the completion: true if the result was kept for the caller.
  bool keep(call_result& r) {
    if (std::this_thread::get_id() != caller_ || !open_) {
      return false;
    }
    result_ = std::move(r);
    return true;
  }

  // After the call returned: the kept result, if the call completed inside.
  std::optional<call_result> close() {
    open_ = false;
    return std::move(result_);
  }

private:
  std::thread::id caller_;
  bool open_ = true;
  std::optional<call_result> result_;
};

} // namespace uvm::hcs
