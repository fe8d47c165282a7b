// Admission control: how many calls a utility VM, and the whole engine,
// have accepted and not yet answered. CAF mailboxes are unbounded, so a
// caller could otherwise queue without limit; past a limit a call fails at
// once with errc::busy instead. Read and written by the VM's children
// from any scheduler thread: relaxed atomics (counts, not ordering).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "messages/errors.hpp"

namespace uvm {

// Every VM's calls together.
class engine_admission {
public:
  explicit engine_admission(uint64_t limit) : limit_(limit) {}

  uint64_t limit() const { return limit_; }
  uint64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

private:
  friend class vm_admission;
  const uint64_t limit_;
  std::atomic<uint64_t> in_flight_{0};
  std::atomic<uint64_t> refused_{0};
};

// One VM's calls (all its children's), for the VM's whole life: a restart
// keeps the count of the calls still owed.
class vm_admission {
public:
  vm_admission(std::string vm_id, uint32_t limit, std::shared_ptr<engine_admission> engine);

  // Takes one place for a call named `what` (e.g. "add a SCSI disk"), or
  // says why not: "utility VM <id> is busy: cannot <what>, <n> calls
  // outstanding (limit <n>)", or "engine is busy: ..." for the engine's.
  error admit(const char* what);
  // The call that took a place was answered.
  void release();

  uint32_t limit() const { return limit_; }
  uint64_t outstanding() const { return outstanding_.load(std::memory_order_relaxed); }
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

private:
  const std::string vm_id_;
  const uint32_t limit_;
  const std::shared_ptr<engine_admission> engine_;
  std::atomic<uint64_t> outstanding_{0};
  std::atomic<uint64_t> refused_{0};
};

// A place held by a call whose reply travels in closures (the bridge's
// guest calls): given back when the last copy of its holder is gone,
// answered or dropped.
class admission_place {
public:
  // The place, or null with `why` set (errc::busy).
  static std::shared_ptr<admission_place> take(std::shared_ptr<vm_admission> admission,
                                               const char* what, error& why);
  ~admission_place();
  admission_place(const admission_place&) = delete;
  admission_place& operator=(const admission_place&) = delete;

private:
  explicit admission_place(std::shared_ptr<vm_admission> a) : admission_(std::move(a)) {}
  std::shared_ptr<vm_admission> admission_;
};

} // namespace uvm
