// Settings objects of the host resources (hcs-schema.md §4.1, §6) as the
// simulated HCS reads them, from the create document or a modify request.
// Each rejects what HCS would refuse: wrong member types (0xC037010D) and
// missing required members (0x80070057). `where` names the resource in
// messages, e.g. "SCSI 0:1".
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hcs/sim/sim_system.hpp"

namespace uvm::hcs::sim {

sim_scsi_attachment parse_attachment(const nlohmann::json& settings, const std::string& where);
sim_vpmem_device parse_vpmem_device(const nlohmann::json& settings, const std::string& where);
// The share's Name (required) and the share.
std::pair<std::string, sim_plan9_share> parse_plan9_share(const nlohmann::json& settings);
std::pair<std::string, sim_vsmb_share> parse_vsmb_share(const nlohmann::json& settings);
// The Name of a share being removed: `kind` is "Plan9" or "VSMB".
std::string share_name(const nlohmann::json& settings, const char* kind);
sim_network_adapter parse_network_adapter(const nlohmann::json& settings);
std::vector<sim_vpci_function> parse_vpci_device(const nlohmann::json& settings);

} // namespace uvm::hcs::sim
