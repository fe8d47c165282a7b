#include "actors/core/device_steps.hpp"

#include <algorithm>

#include "actors/core/hcs_errors.hpp"
#include "actors/core/logging.hpp"

namespace uvm {

// The continuation of each step rides in the inbox's record of it (no
// further wrapping).
template <class Then>
void device_steps::host_step(std::string body, Then then) {
  cfg_.host->modify(cfg_.vm_id, std::move(body), inbox_.expect<hcs::call_result>(std::move(then)));
}

template <class Then>
void device_steps::guest_step(const std::string& request, const std::string& activity, Then then) {
  cfg_.guest->modify(request, activity, inbox_.expect<error>(std::move(then)));
}

void device_steps::whole(hcs::device_request&& req, done_fn done) {
  auto body = req.host && !req.guest ? std::move(*req.host) : hcs::combined_request(req);
  // The continuation keeps the text for the error; HCS gets a copy.
  auto then = [this, body, done = std::move(done)](hcs::call_result r) {
    done(r.ok() ? error{} : hcs_error("System::Modify", cfg_.vm_id, r, body));
  };
  host_step(std::move(body), std::move(then));
}

std::chrono::milliseconds device_steps::retry_delay(uint32_t attempt) {
  return std::min(undo_retry_first * (1u << std::min(attempt, 9u)), undo_retry_max);
}

void device_steps::undo(std::string request, uint32_t attempt, std::function<void()> after) {
  host_step(request, [this, request, attempt, after = std::move(after)](hcs::call_result r) {
    if (r.ok()) {
      after();
      return;
    }
    logging::warn({cfg_.vm_id, {}}, "failed to roll back resource add",
                  {{"attempt", attempt + 1}, {"error", r.message}});
    inbox_.after(retry_delay(attempt),
                 [this, request, attempt, after] { undo(request, attempt + 1, after); });
  });
}

// The resource stays attached after a failed removal, so the guest must
// have it again: a guest left without it would refuse every later removal.
void device_steps::give_back(std::string request, std::string activity, uint32_t attempt,
                             std::function<void()> after) {
  guest_step(request, activity,
             [this, request, activity, attempt, after = std::move(after)](const error& re) {
               if (!re) {
                 after();
                 return;
               }
               logging::warn({cfg_.vm_id, activity},
                             "failed to restore the guest after a failed removal",
                             {{"attempt", attempt + 1}, {"error", re.text}});
               inbox_.after(retry_delay(attempt), [this, request, activity, attempt, after] {
                 give_back(request, activity, attempt + 1, after);
               });
             });
}

// What the steps of one add share, made once instead of copied into each
// continuation.
struct device_steps::add_op {
  std::string host;
  std::string guest;
  std::string activity;
  done_fn done;
};

void device_steps::add(hcs::device_request req, const std::string& activity, done_fn done) {
  if (!req.guest || !cfg_.external_guest) {
    whole(std::move(req), std::move(done));
    return;
  }
  if (!req.host_adds) {
    guest_step(*req.guest, activity, [done = std::move(done)](const error& ge) {
      done(ge ? wrap("guest modify", ge) : error{});
    });
    return;
  }
  auto op = std::make_shared<const add_op>(
      add_op{std::move(*req.host), std::move(*req.guest), activity, std::move(done)});
  host_step(op->host, [this, op](hcs::call_result r) {
    if (!r.ok()) {
      op->done(wrap("adding VM resources", hcs_error("System::Modify", cfg_.vm_id, r, op->host)));
      return;
    }
    guest_step(op->guest, op->activity, [this, op](const error& ge) {
      if (!ge) {
        op->done({});
        return;
      }
      undo(hcs::host_undo(op->host), 0, [op, ge] { op->done(wrap("guest modify", ge)); });
    });
  });
}

// What the steps of one removal share.
struct device_steps::remove_op {
  std::optional<std::string> host;
  restore_fn restore;
  std::string activity;
  done_fn done;
};

void device_steps::remove(hcs::device_request req, restore_fn restore, const std::string& activity,
                          done_fn done) {
  if (!req.guest || !cfg_.external_guest) {
    whole(std::move(req), std::move(done));
    return;
  }
  auto op = std::make_shared<const remove_op>(
      remove_op{std::move(req.host), std::move(restore), activity, std::move(done)});
  guest_step(*req.guest, activity, [this, op](const error& ge) {
    if (ge) {
      op->done(wrap("guest modify", ge));
      return;
    }
    if (!op->host) {
      op->done({});
      return;
    }
    host_step(*op->host, [this, op](hcs::call_result r) {
      if (r.ok()) {
        op->done({});
        return;
      }
      auto e = wrap("removing VM resources", hcs_error("System::Modify", cfg_.vm_id, r, *op->host));
      auto again = op->restore ? op->restore() : std::nullopt;
      if (!again) {
        op->done(e);
        return;
      }
      give_back(std::move(*again), op->activity, 0, [op, e] { op->done(e); });
    });
  });
}

} // namespace uvm
