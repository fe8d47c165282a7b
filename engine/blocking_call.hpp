// The blocking form of an actor call for the embedding API: one request
// from a scoped actor, its reply or its error. A zero timeout waits forever
// (Wait calls: a VM or a process runs as long as it likes).
#pragma once

#include <chrono>
#include <optional>
#include <utility>

#include <caf/all.hpp>

#include "messages/caf/interfaces.hpp"
#include "messages/caf/registration.hpp"

namespace uvm {

template <class T, class Handle, class... Ts>
result<T> call_value(caf::actor_system& sys, const Handle& h, std::chrono::milliseconds timeout,
                     Ts&&... xs) {
  caf::scoped_actor self{sys};
  std::optional<result<T>> out;
  auto t = timeout.count() == 0 ? caf::infinite : caf::duration{timeout};
  self->request(h, t, std::forward<Ts>(xs)...)
      .receive([&](T& v) { out.emplace(std::move(v)); },
               [&](caf::error& e) { out.emplace(from_caf_error(e)); });
  return std::move(*out);
}

template <class Handle, class... Ts>
error call_ok(caf::actor_system& sys, const Handle& h, std::chrono::milliseconds timeout,
              Ts&&... xs) {
  auto r = call_value<caf::ok_atom>(sys, h, timeout, std::forward<Ts>(xs)...);
  return r ? error{} : r.err();
}

} // namespace uvm
