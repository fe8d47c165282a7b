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

void device_steps::whole(const hcs::device_request& req, done_fn done) {
  auto body = hcs::combined_request(req);
  // The continuation keeps the text for the error; HCS gets a copy.
  auto then = [this, body, done = std::move(done)](hcs::call_result r) {
    done(r.ok() ? error{} : hcs_error("System::Modify", cfg_.vm_id, r, body));
  };
  host_step(std::move(body), std::move(then));
}

void device_steps::undo(std::string request, uint32_t attempt, std::function<void()> after) {
  host_step(request, [this, request, attempt, after = std::move(after)](hcs::call_result r) {
    if (r.ok()) {
      after();
      return;
    }
    logging::warn({cfg_.vm_id, {}}, "failed to roll back resource add",
                  {{"attempt", attempt + 1}, {"error", r.message}});
    auto delay = std::min(undo_retry_first * (1u << std::min(attempt, 9u)), undo_retry_max);
    inbox_.after(delay, [this, request, attempt, after] { undo(request, attempt + 1, after); });
  });
}

void device_steps::add(hcs::device_request req, const std::string& activity, done_fn done) {
  if (!req.guest || !cfg_.external_guest) {
    whole(req, std::move(done));
    return;
  }
  auto guest = std::move(*req.guest);
  if (!req.host_adds) {
    guest_step(guest, activity, [done = std::move(done)](const error& ge) {
      done(ge ? wrap("guest modify", ge) : error{});
    });
    return;
  }
  auto host = std::move(*req.host);
  host_step(host, [this, host, guest, activity, done = std::move(done)](hcs::call_result r) {
    if (!r.ok()) {
      done(wrap("adding VM resources", hcs_error("System::Modify", cfg_.vm_id, r, host)));
      return;
    }
    guest_step(guest, activity, [this, host, done](const error& ge) {
      if (!ge) {
        done({});
        return;
      }
      undo(hcs::host_undo(host), 0, [done, ge] { done(wrap("guest modify", ge)); });
    });
  });
}

void device_steps::remove(hcs::device_request req, restore_fn restore, const std::string& activity,
                          done_fn done) {
  if (!req.guest || !cfg_.external_guest) {
    whole(req, std::move(done));
    return;
  }
  auto host = std::move(req.host);
  guest_step(*req.guest, activity, [this, host, restore, activity, done](const error& ge) {
    if (ge) {
      done(wrap("guest modify", ge));
      return;
    }
    if (!host) {
      done({});
      return;
    }
    host_step(*host, [this, host, restore, activity, done](hcs::call_result r) {
      if (r.ok()) {
        done({});
        return;
      }
      auto e = wrap("removing VM resources", hcs_error("System::Modify", cfg_.vm_id, r, *host));
      auto again = restore ? restore() : std::nullopt;
      if (!again) {
        done(e);
        return;
      }
      guest_step(*again, activity, [this, activity, e, done](const error& re) {
        if (re) {
          logging::error({cfg_.vm_id, activity},
                         "failed to restore the guest after a failed removal",
                         {{"error", re.text}});
        }
        done(e);
      });
    });
  });
}

} // namespace uvm
