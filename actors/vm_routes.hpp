// The device and guest calls of a utility VM, declared once: which child
// answers which calls (vm_routes). The VM's handler for every call of a
// child's interface is built from this table: without children (the system
// is not created, or has exited) the caller gets the VM's state error for
// the call (call_what in messages/caf/calls.hpp); otherwise the call is
// delegated to the child, which checks the same lifecycle (the gate) and
// answers the caller directly.
//
// A new device call is declared in its child's interface and given a
// call_what (messages/caf/calls.hpp), served by the child, and offered by
// the embedding API: nothing here changes.
#pragma once

#include <tuple>
#include <utility>

#include "actors/vm_state.hpp"

namespace uvm {

// `Calls` (a typed interface) is answered by the child at `Child`.
template <class Calls, auto Child>
struct route {};

using vm_routes =
    std::tuple<route<scsi_calls, &vm_children::scsi>, route<vpmem_calls, &vm_children::vpmem>,
               route<share_calls, &vm_children::shares>,
               route<network_calls, &vm_children::network>, route<vpci_calls, &vm_children::vpci>,
               route<layer_calls, &vm_children::layers>, route<guest_calls, &vm_children::bridge>>;

// The VM's handler for one signature of a child's interface.
template <auto Child, class Signature>
struct route_handler;

template <auto Child, class Atom, class... Args, class Out>
struct route_handler<
    Child, caf::typed_mpi<caf::detail::type_list<Atom, Args...>, caf::output_tuple<Out>>> {
  vm_pointer self;

  caf::result<Out> operator()(Atom atom, const Args&... xs) const {
    auto& st = self->state;
    if (!st.children) {
      return to_caf_error(st.life.check_running(call_what<Atom>));
    }
    return self->delegate(child<Child>(self), atom, xs...);
  }
};

// A call without a reply reaches the child while there is one.
template <auto Child, class Atom, class... Args>
struct route_handler<
    Child, caf::typed_mpi<caf::detail::type_list<Atom, Args...>, caf::output_tuple<void>>> {
  vm_pointer self;

  void operator()(Atom atom, const Args&... xs) const {
    if (self->state.children) {
      self->send(child<Child>(self), atom, xs...);
    }
  }
};

template <auto Child, class... Signatures>
auto route_handlers(vm_pointer self, caf::detail::type_list<Signatures...>) {
  return std::make_tuple(route_handler<Child, Signatures>{self}...);
}

template <class Calls, auto Child>
auto route_handlers(vm_pointer self, route<Calls, Child>) {
  return route_handlers<Child>(self, typename Calls::signatures{});
}

// Every routed handler of the VM, as one tuple.
inline auto routed_calls(vm_pointer self) {
  return std::apply(
      [self](auto... routes) { return std::tuple_cat(route_handlers(self, routes)...); },
      vm_routes{});
}

} // namespace uvm
