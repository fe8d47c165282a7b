// Which metrics op (metrics/engine_metrics.hpp) each device call is counted
// as, by its atom: fixed at compile time, so counting a call looks nothing up.
#pragma once

#include "messages/caf/calls.hpp"
#include "metrics/engine_metrics.hpp"

namespace uvm {

// Undefined for an atom without an op: serving it does not compile.
template <class Atom>
struct call_op_for;

template <class Atom>
constexpr metrics::call_op call_op_of = call_op_for<Atom>::value;

#define UVM_CALL_OP(atom, op)                                                                      \
  template <>                                                                                      \
  struct call_op_for<atom> {                                                                       \
    static constexpr metrics::call_op value = metrics::call_op::op;                                \
  };
UVM_CALL_OP(add_scsi_atom, add_scsi)
UVM_CALL_OP(remove_scsi_atom, remove_scsi)
UVM_CALL_OP(scsi_path_atom, scsi_path)
UVM_CALL_OP(add_vpmem_atom, add_vpmem)
UVM_CALL_OP(remove_vpmem_atom, remove_vpmem)
UVM_CALL_OP(add_vsmb_atom, add_vsmb)
UVM_CALL_OP(remove_vsmb_atom, remove_vsmb)
UVM_CALL_OP(vsmb_path_atom, vsmb_path)
UVM_CALL_OP(add_plan9_atom, add_plan9)
UVM_CALL_OP(remove_plan9_atom, remove_plan9)
UVM_CALL_OP(add_pipe_atom, add_pipe)
UVM_CALL_OP(remove_pipe_atom, remove_pipe)
UVM_CALL_OP(add_netns_atom, add_netns)
UVM_CALL_OP(remove_netns_atom, remove_netns)
UVM_CALL_OP(add_endpoints_atom, add_endpoints)
UVM_CALL_OP(remove_endpoints_atom, remove_endpoints)
UVM_CALL_OP(assign_device_atom, assign_device)
UVM_CALL_OP(remove_device_atom, remove_device)
UVM_CALL_OP(combine_layers_atom, combine_layers)
UVM_CALL_OP(remove_layers_atom, remove_layers)
#undef UVM_CALL_OP

} // namespace uvm
