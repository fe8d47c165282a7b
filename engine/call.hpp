// The one mechanism behind every call of the embedding API: a call is a
// small value (engine/calls.hpp) that says what it sends, what answers it
// and how the answer becomes the public result; call_blocking() and
// call_async() run any of them on any handle (utility_vm, guest_process,
// guest_container, engine, a resource handle).
//
// A call description C provides, for its handle type H:
//   static constexpr const char* name; its name in "deadline exceeded: <name> on ..."
//   caf::message message(const H&) const;
// and, where the defaults (call_traits) do not fit:
//   using reply = replies<Ts...>;   what the actor answers (default: ok)
//   using outcome = ...;            what the caller gets (default: error for
//                                   ok, result<T> for one T)
//   outcome finish(const H&, Ts&&...) const;  the answer as the outcome
//   then(const H&, Ts&&...) const;  with `chained`: the description of a
//                                   second step, run with the same deadline
//   fail(const H&, error) const;    how an error becomes the outcome
//   refuse(const H&) const;         an error instead of the call (an empty
//                                   handle); `done` then runs at once
//   target(const H&), subject(const H&): the actor that answers (the
//                                   handle's) and the VM a deadline names
//   waits:  no engine deadline (Wait runs as long as its VM or process)
//   local:  no actor call; `outcome run(const H&) const` instead
// Descriptions are plain aggregates: calls::add_scsi{req}.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <caf/all.hpp>

#include "engine/dispatcher.hpp"
#include "messages/caf/registration.hpp"
#include "messages/errors.hpp"

namespace uvm {

class engine;

// Where a handle's calls go: its engine (dispatcher, caller_wait()), the
// actor that answers them (a VM, the registry, or a remote stand-in of
// either) and the VM's id, which deadline errors name.
struct call_site {
  engine* eng = nullptr;
  caf::actor to;
  std::string vm_id;
};

// A caller's deadline; the clock's epoch means none.
using call_deadline = dispatcher::clock::time_point;

template <class... Ts>
struct replies {};

namespace detail {

template <class C, class = void>
struct reply_of {
  using type = replies<caf::ok_atom>;
};
template <class C>
struct reply_of<C, std::void_t<typename C::reply>> {
  using type = typename C::reply;
};

template <class R>
struct outcome_for;
template <>
struct outcome_for<replies<caf::ok_atom>> {
  using type = error;
};
template <class T>
struct outcome_for<replies<T>> {
  using type = result<T>;
};

template <class C, class = void>
struct outcome_of {
  using type = typename outcome_for<typename reply_of<C>::type>::type;
};
template <class C>
struct outcome_of<C, std::void_t<typename C::outcome>> {
  using type = typename C::outcome;
};

#define UVM_CALL_FLAG(flag)                                                                        \
  template <class C, class = void>                                                                 \
  struct flag##_of : std::false_type {};                                                           \
  template <class C>                                                                               \
  struct flag##_of<C, std::void_t<decltype(C::flag)>> : std::bool_constant<C::flag> {};
UVM_CALL_FLAG(waits)
UVM_CALL_FLAG(local)
UVM_CALL_FLAG(chained)
#undef UVM_CALL_FLAG

template <class C, class H, class = void>
struct has_fail : std::false_type {};
template <class C, class H>
struct has_fail<C, H,
                std::void_t<decltype(std::declval<const C&>().fail(
                    std::declval<const H&>(), std::declval<error>()))>> : std::true_type {};

template <class C, class H, class = void>
struct has_refuse : std::false_type {};
template <class C, class H>
struct has_refuse<C, H,
                  std::void_t<decltype(std::declval<const C&>().refuse(std::declval<const H&>()))>>
    : std::true_type {};

template <class C, class H, class = void>
struct has_target : std::false_type {};
template <class C, class H>
struct has_target<C, H,
                  std::void_t<decltype(std::declval<const C&>().target(std::declval<const H&>()))>>
    : std::true_type {};

template <class C, class H, class = void>
struct has_subject : std::false_type {};
template <class C, class H>
struct has_subject<
    C, H, std::void_t<decltype(std::declval<const C&>().subject(std::declval<const H&>()))>>
    : std::true_type {};

template <class C, class H, class = void>
struct has_finish : std::false_type {};
template <class C, class H>
struct has_finish<C, H, std::void_t<decltype(&C::finish)>> : std::true_type {};

} // namespace detail

// What a call's caller gets.
template <class C>
using call_outcome_t = typename detail::outcome_of<C>::type;

// What call_blocking() and call_async() use of a description, with the
// defaults of the members it leaves out.
struct call_traits {
  template <class C, class H>
  static call_outcome_t<C> fail(const C& c, const H& h, error e) {
    if constexpr (detail::has_fail<C, H>::value) {
      return c.fail(h, std::move(e));
    } else {
      return e;
    }
  }
  template <class C, class H>
  static error refuse(const C& c, const H& h) {
    if constexpr (detail::has_refuse<C, H>::value) {
      return c.refuse(h);
    } else {
      return {};
    }
  }
  template <class C, class H>
  static caf::actor target(const C& c, const H& h) {
    if constexpr (detail::has_target<C, H>::value) {
      return c.target(h);
    } else {
      return h.site().to;
    }
  }
  template <class C, class H>
  static std::string subject(const C& c, const H& h) {
    if constexpr (detail::has_subject<C, H>::value) {
      return c.subject(h);
    } else {
      return h.site().vm_id;
    }
  }
  // An ok answer is no error; one value is the result as it is.
  template <class C, class H, class... Ts>
  static call_outcome_t<C> finish(const C& c, const H& h, Ts&&... xs) {
    if constexpr (detail::has_finish<C, H>::value) {
      return c.finish(h, std::forward<Ts>(xs)...);
    } else if constexpr (std::is_same_v<call_outcome_t<C>, error>) {
      return {};
    } else {
      return call_outcome_t<C>{std::forward<Ts>(xs)...};
    }
  }
};

// The engine's plumbing the templates need (engine.cpp): engine stays
// incomplete here.
caf::actor_system& call_system(engine* eng);
std::chrono::milliseconds call_wait(engine* eng);
void call_dispatch(engine* eng, std::function<void(caf::event_based_actor*)> job);
// "deadline exceeded: add_scsi on utility VM vm1" (or "on the engine").
error call_deadline_exceeded(const char* name, const std::string& vm_id);

template <class H, class C>
call_outcome_t<C> call_blocking(const H& h, const C& c);
template <class H, class C>
void call_async(const H& h, C c, std::function<void(call_outcome_t<C>)> done,
                call_deadline due = {});

namespace detail {

// A handle as a callback keeps it: a copy, or the engine's address.
template <class H>
auto keep(const H& h) {
  if constexpr (std::is_copy_constructible_v<H>) {
    return h;
  } else {
    return &h;
  }
}
template <class H>
const H& held(const H& h) {
  return h;
}
template <class H>
const H& held(const H* h) {
  return *h;
}

// The answer of one step: the outcome, or the call of the next step.
template <class C, class H, class... Ts>
call_outcome_t<C> answer_blocking(const C& c, const H& h, Ts&... xs) {
  if constexpr (chained_of<C>::value) {
    return call_blocking(h, c.then(h, std::move(xs)...));
  } else {
    return call_traits::finish(c, h, std::move(xs)...);
  }
}

template <class C, class H, class... Ts>
auto blocking_reply(const C& c, const H& h, std::optional<call_outcome_t<C>>& out, replies<Ts...>) {
  return [&c, &h, &out](Ts&... xs) { out.emplace(answer_blocking(c, h, xs...)); };
}

template <class C, class Kept, class... Ts>
std::function<void(result<std::tuple<Ts...>>)>
async_reply(C c, Kept h, std::function<void(call_outcome_t<C>)> done, call_deadline due,
            replies<Ts...>) {
  return [c = std::move(c), h = std::move(h), done = std::move(done),
          due](result<std::tuple<Ts...>> r) mutable {
    if (!r) {
      done(call_traits::fail(c, held(h), r.err()));
      return;
    }
    std::apply(
        [&](Ts&... xs) {
          if constexpr (chained_of<C>::value) {
            call_async(held(h), c.then(held(h), std::move(xs)...), std::move(done), due);
          } else {
            done(call_traits::finish(c, held(h), std::move(xs)...));
          }
        },
        *r);
  };
}

template <class... Ts>
void send_call(dispatcher* d, const std::string& vm_id, const caf::actor& target,
               std::optional<call_deadline> due, error expired, caf::message msg,
               std::function<void(result<std::tuple<Ts...>>)> done, replies<Ts...>) {
  d->call<Ts...>(vm_id, target, due, std::move(expired), std::move(msg), std::move(done));
}

} // namespace detail

// The blocking form: waits at most engine::caller_wait() (a `waits` call
// as long as it takes).
template <class H, class C>
call_outcome_t<C> call_blocking(const H& h, const C& c) {
  if (auto e = call_traits::refuse(c, h)) {
    return call_traits::fail(c, h, std::move(e));
  }
  if constexpr (detail::local_of<C>::value) {
    return c.run(h);
  } else {
    auto* eng = h.site().eng;
    caf::scoped_actor self{call_system(eng)};
    std::optional<call_outcome_t<C>> out;
    auto timeout = detail::waits_of<C>::value ? caf::infinite : caf::duration{call_wait(eng)};
    self->request(call_traits::target(c, h), timeout, c.message(h))
        .receive(detail::blocking_reply(c, h, out, typename detail::reply_of<C>::type{}),
                 [&](caf::error& e) { out.emplace(call_traits::fail(c, h, from_caf_error(e))); });
    return std::move(*out);
  }
}

// The asynchronous form: `done` runs on the engine's dispatcher. Without
// `due` the call waits engine::caller_wait() ("request timed out") or, a
// `waits` call, as long as it takes; past `due`, `done` gets
// errc::deadline_exceeded at once. Either way a success that comes later
// is released again where something undoes it (engine/late_undo.hpp).
template <class H, class C>
void call_async(const H& h, C c, std::function<void(call_outcome_t<C>)> done, call_deadline due) {
  if (auto e = call_traits::refuse(c, h)) {
    done(call_traits::fail(c, h, std::move(e)));
    return;
  }
  auto* eng = h.site().eng;
  bool callers = due != call_deadline{};
  auto subject = call_traits::subject(c, h);
  if constexpr (detail::local_of<C>::value) {
    call_dispatch(eng,
                  [c = std::move(c), h = detail::keep(h), done = std::move(done), callers, due,
                   expired = call_deadline_exceeded(C::name, subject)](caf::event_based_actor*) {
                    if (callers && dispatcher::clock::now() >= due) {
                      done(call_traits::fail(c, detail::held(h), expired));
                      return;
                    }
                    done(c.run(detail::held(h)));
                  });
  } else {
    using reply = typename detail::reply_of<C>::type;
    std::optional<call_deadline> until;
    if (callers) {
      until = due;
    } else if (!detail::waits_of<C>::value) {
      until = dispatcher::clock::now() + call_wait(eng);
    }
    auto expired = callers ? call_deadline_exceeded(C::name, subject) : dispatcher::timed_out();
    auto target = call_traits::target(c, h);
    auto msg = c.message(h);
    auto on_reply =
        detail::async_reply(std::move(c), detail::keep(h), std::move(done), due, reply{});
    call_dispatch(eng, [subject = std::move(subject), target = std::move(target), until,
                        expired = std::move(expired), msg = std::move(msg),
                        on_reply = std::move(on_reply)](caf::event_based_actor* self) mutable {
      detail::send_call(static_cast<dispatcher*>(self), subject, target, until, std::move(expired),
                        std::move(msg), std::move(on_reply), reply{});
    });
  }
}

} // namespace uvm
