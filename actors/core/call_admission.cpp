#include "actors/core/call_admission.hpp"

namespace uvm {

vm_admission::vm_admission(std::string vm_id, uint32_t limit,
                           std::shared_ptr<engine_admission> engine)
    : vm_id_(std::move(vm_id)), limit_(limit), engine_(std::move(engine)) {}

error vm_admission::admit(const char* what) {
  // Take first, then check: two callers racing for the last place cannot
  // both get it.
  auto mine = outstanding_.fetch_add(1, std::memory_order_relaxed);
  if (mine >= limit_) {
    outstanding_.fetch_sub(1, std::memory_order_relaxed);
    refused_.fetch_add(1, std::memory_order_relaxed);
    return {errc::busy, "utility VM " + vm_id_ + " is busy: cannot " + what + ", " +
                            std::to_string(mine) + " calls outstanding (limit " +
                            std::to_string(limit_) + ")"};
  }
  if (engine_) {
    auto all = engine_->in_flight_.fetch_add(1, std::memory_order_relaxed);
    if (all >= engine_->limit_) {
      engine_->in_flight_.fetch_sub(1, std::memory_order_relaxed);
      engine_->refused_.fetch_add(1, std::memory_order_relaxed);
      outstanding_.fetch_sub(1, std::memory_order_relaxed);
      refused_.fetch_add(1, std::memory_order_relaxed);
      return {errc::busy, "engine is busy: cannot " + std::string{what} + " on utility VM " +
                              vm_id_ + ", " + std::to_string(all) + " calls in flight (limit " +
                              std::to_string(engine_->limit_) + ")"};
    }
  }
  return {};
}

std::shared_ptr<admission_place> admission_place::take(std::shared_ptr<vm_admission> admission,
                                                       const char* what, error& why) {
  why = admission->admit(what);
  if (why) {
    return nullptr;
  }
  return std::shared_ptr<admission_place>{new admission_place{std::move(admission)}};
}

admission_place::~admission_place() {
  admission_->release();
}

void vm_admission::release() {
  outstanding_.fetch_sub(1, std::memory_order_relaxed);
  if (engine_) {
    engine_->in_flight_.fetch_sub(1, std::memory_order_relaxed);
  }
}

} // namespace uvm
