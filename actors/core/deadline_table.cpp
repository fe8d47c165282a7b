#include "actors/core/deadline_table.hpp"

namespace uvm {

uint64_t deadline_table::add(clock::time_point due, std::function<void()> on_expire) {
  auto id = next_id_++;
  pending_.emplace(id, call{due, std::move(on_expire)});
  due_.emplace(due, id);
  return id;
}

bool deadline_table::settle(uint64_t id) {
  if (pending_.erase(id) == 0) {
    return false;
  }
  if (due_.size() > 2 * pending_.size() + 64) {
    compact();
  }
  return true;
}

void deadline_table::compact() {
  std::vector<due_entry> live;
  live.reserve(pending_.size());
  for (const auto& [id, c] : pending_) {
    live.emplace_back(c.due, id);
  }
  due_ = decltype(due_){std::greater<>{}, std::move(live)};
}

std::vector<std::function<void()>> deadline_table::expire(clock::time_point now) {
  std::vector<std::function<void()>> out;
  while (!due_.empty() && due_.top().first <= now) {
    auto node = pending_.extract(due_.top().second);
    due_.pop();
    if (!node.empty()) {
      out.push_back(std::move(node.mapped().on_expire));
    }
  }
  return out;
}

std::optional<deadline_table::clock::time_point> deadline_table::next_due() {
  while (!due_.empty() && pending_.count(due_.top().second) == 0) {
    due_.pop();
  }
  if (due_.empty()) {
    return std::nullopt;
  }
  return due_.top().first;
}

} // namespace uvm
