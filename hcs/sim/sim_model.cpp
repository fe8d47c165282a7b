#include "hcs/sim/sim_model.hpp"

#include <array>
#include <cstdio>

#include "hcs/hcs_json.hpp"
#include "hcs/sim/sim_devices.hpp"
#include "hcs/sim/sim_document.hpp"
#include "hcs/sim/sim_properties.hpp"

namespace uvm::hcs {

namespace {

// Runs a check that may throw a rejection and turns it into the result.
template <class Fn>
call_result guarded(Fn&& fn) {
  try {
    return fn();
  } catch (const rejection& error) {
    return call_result::failure(error.hresult, error.what());
  }
}

[[noreturn]] void not_found(const std::string& id) {
  reject(hr::system_not_found, "compute system " + id + " does not exist");
}

[[noreturn]] void wrong_state(const std::string& id, const sim_system& system, const char* op) {
  reject(hr::invalid_state, "cannot " + std::string(op) + " compute system " + id + ": it is " +
                                to_string(system.state));
}

} // namespace

sim_model::sim_model(uint64_t seed, clock now)
    : rng_(seed), now_(now ? std::move(now) : clock(std::chrono::system_clock::now)) {}

sim_system* sim_model::find(const std::string& id) {
  auto it = systems_.find(id);
  return it == systems_.end() ? nullptr : &it->second;
}

call_result sim_model::create(const std::string& id, const std::string& document) {
  return guarded([&] {
    if (find(id) != nullptr) {
      reject(hr::already_exists, "compute system " + id + " already exists");
    }
    auto system = sim::parse_document(document);
    system.runtime_id = next_runtime_id();
    systems_.emplace(id, std::move(system));
    return call_result::success();
  });
}

call_result sim_model::start(const std::string& id) {
  return guarded([&] {
    auto* system = find(id);
    if (system == nullptr) {
      not_found(id);
    }
    if (system->state != sim_state::created) {
      wrong_state(id, *system, "start");
    }
    system->state = sim_state::running;
    system->started_at = now_();
    return call_result::success();
  });
}

call_result sim_model::modify(const std::string& id, const std::string& request) {
  return guarded([&] {
    auto* system = find(id);
    if (system == nullptr) {
      not_found(id);
    }
    if (system->state != sim_state::running) {
      wrong_state(id, *system, "modify");
    }
    sim::apply_modify(*system, request);
    return call_result::success();
  });
}

call_result sim_model::stop(const std::string& id) {
  return guarded([&] {
    auto* system = find(id);
    if (system == nullptr) {
      not_found(id);
    }
    if (system->state == sim_state::stopped || system->state == sim_state::crashed) {
      reject(hr::already_stopped,
             "compute system " + id + " is already " + to_string(system->state));
    }
    system->state = sim_state::stopped;
    return call_result::success();
  });
}

call_result sim_model::shutdown(const std::string& id) {
  return stop(id);
}

call_result sim_model::terminate(const std::string& id) {
  return stop(id);
}

call_result sim_model::properties(const std::string& id, const std::string& query) {
  return guarded([&] {
    auto* system = find(id);
    if (system == nullptr) {
      not_found(id);
    }
    if (system->state == sim_state::stopped || system->state == sim_state::crashed) {
      wrong_state(id, *system, "query");
    }
    return call_result::success(sim::properties_response(id, *system, query, now_()));
  });
}

call_result sim_model::apply(call_kind kind, const std::string& id, const std::string& text) {
  switch (kind) {
  case call_kind::create:
    return create(id, text);
  case call_kind::start:
    return start(id);
  case call_kind::modify:
    return modify(id, text);
  case call_kind::shutdown:
    return shutdown(id);
  case call_kind::terminate:
    return terminate(id);
  case call_kind::properties:
    return properties(id, text);
  }
  return call_result::failure(hr::not_impl, "unknown call");
}

bool sim_model::crash(const std::string& id) {
  auto* system = find(id);
  if (system == nullptr ||
      (system->state != sim_state::created && system->state != sim_state::running)) {
    return false;
  }
  system->state = sim_state::crashed;
  return true;
}

void sim_model::close(const std::string& id) {
  systems_.erase(id);
}

std::optional<sim_state> sim_model::state(const std::string& id) const {
  auto it = systems_.find(id);
  if (it == systems_.end()) {
    return std::nullopt;
  }
  return it->second.state;
}

nlohmann::json sim_model::oracle() const {
  auto out = nlohmann::json::object();
  for (const auto& [id, system] : systems_) {
    out[id] = to_oracle(system);
  }
  return out;
}

// A version 4 GUID from the model's own generator, so runs are reproducible.
std::string sim_model::next_runtime_id() {
  const uint64_t high = (rng_() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  const uint64_t low = (rng_() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  std::array<char, 37> text{};
  std::snprintf(text.data(), text.size(), "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(high >> 32), static_cast<unsigned>((high >> 16) & 0xffff),
                static_cast<unsigned>(high & 0xffff), static_cast<unsigned>(low >> 48),
                static_cast<unsigned long long>(low & 0xffffffffffffULL));
  return text.data();
}

} // namespace uvm::hcs
