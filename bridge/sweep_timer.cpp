#include "bridge/sweep_timer.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "bridge/io_loop.hpp"

namespace uvm::bridge {

struct sweep_timer::state {
  state(boost::asio::io_context& io, std::chrono::milliseconds r)
      : timer(io), resolution(std::max(r, std::chrono::milliseconds(1))) {}

  std::mutex mutex;
  // By due time, then by id: what tick() takes is a prefix.
  std::map<std::pair<clock::time_point, uint64_t>, std::function<void()>> wakes;
  uint64_t last_id = 0;
  bool ticking = false; // a wait is armed; only while `wakes` is not empty
  bool closed = false;
  boost::asio::steady_timer timer; // used under `mutex` only
  std::chrono::milliseconds resolution;

  // Under the lock.
  static void arm(const std::shared_ptr<state>& s) {
    s->timer.expires_after(s->resolution);
    s->timer.async_wait([weak = std::weak_ptr<state>(s)](const boost::system::error_code& ec) {
      if (!ec) {
        tick(weak);
      }
    });
  }

  static void tick(const std::weak_ptr<state>& weak) {
    auto s = weak.lock();
    if (!s) {
      return;
    }
    std::vector<std::function<void()>> due;
    {
      std::lock_guard<std::mutex> lock{s->mutex};
      if (s->closed) {
        return;
      }
      auto end = s->wakes.upper_bound({clock::now(), std::numeric_limits<uint64_t>::max()});
      for (auto i = s->wakes.begin(); i != end; i = s->wakes.erase(i)) {
        due.push_back(std::move(i->second));
      }
      s->ticking = !s->wakes.empty();
      if (s->ticking) {
        arm(s);
      }
    }
    for (auto& wake : due) {
      wake();
    }
  }
};

sweep_timer::sweep_timer(std::shared_ptr<io_loop> io, std::chrono::milliseconds resolution)
    : io_(std::move(io)), state_(std::make_shared<state>(io_->context(), resolution)) {}

sweep_timer::~sweep_timer() {
  std::lock_guard<std::mutex> lock{state_->mutex};
  state_->closed = true;
  state_->wakes.clear();
  state_->timer.cancel();
}

sweep_timer::ticket sweep_timer::schedule(clock::time_point due, std::function<void()> wake) {
  std::lock_guard<std::mutex> lock{state_->mutex};
  ticket t{due, ++state_->last_id};
  state_->wakes.emplace(std::make_pair(t.due, t.id), std::move(wake));
  if (!state_->ticking) {
    state_->ticking = true;
    state::arm(state_);
  }
  return t;
}

void sweep_timer::cancel(const ticket& t) {
  if (!t) {
    return;
  }
  std::lock_guard<std::mutex> lock{state_->mutex};
  // The wait stays armed: its tick finds nothing and stops.
  state_->wakes.erase({t.due, t.id});
}

size_t sweep_timer::scheduled() const {
  std::lock_guard<std::mutex> lock{state_->mutex};
  return state_->wakes.size();
}

std::chrono::milliseconds sweep_resolution(std::chrono::milliseconds timeout) {
  return std::clamp(timeout / 4, std::chrono::milliseconds(1), std::chrono::milliseconds(100));
}

} // namespace uvm::bridge
