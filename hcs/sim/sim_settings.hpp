// Settings objects of the host resources (hcs-schema.md §4.1, §6) as the
// simulated HCS reads them, from the create document or a modify request.
// Each rejects what HCS would refuse: wrong member types (0xC037010D) and
// missing required members (0x80070057). `where` names the resource in
// messages, e.g. "SCSI 0:1". `Obj` is the settings object as a tree
// (nlohmann::json, from the document) or read in place
// (gojson::json_object, from a request); both read alike.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hcs/sim/sim_system.hpp"

namespace uvm::hcs::sim {

template <class Obj>
sim_scsi_attachment parse_attachment(const Obj& settings, const std::string& where);
template <class Obj>
sim_vpmem_device parse_vpmem_device(const Obj& settings, const std::string& where);
// The share's Name (required) and the share.
template <class Obj>
std::pair<std::string, sim_plan9_share> parse_plan9_share(const Obj& settings);
template <class Obj>
std::pair<std::string, sim_vsmb_share> parse_vsmb_share(const Obj& settings);
// The Name of a share being removed: `kind` is "Plan9" or "VSMB".
template <class Obj>
std::string share_name(const Obj& settings, const char* kind);
template <class Obj>
sim_network_adapter parse_network_adapter(const Obj& settings);
template <class Obj>
std::vector<sim_vpci_function> parse_vpci_device(const Obj& settings);

} // namespace uvm::hcs::sim
