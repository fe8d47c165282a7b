// What the simulated HCS knows about one compute system: its lifecycle state,
// its topology and every host device attached to it. Plain data; the rules
// that change it live in sim_model (lifecycle) and sim_devices (modify).
//
//   created --start--> running --shutdown/terminate--> stopped
//      \                  \----(guest crash)---------> crashed
//       \--terminate/shutdown--> stopped, --crash--> crashed
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace uvm::hcs {

enum class sim_state : uint8_t { created, running, stopped, crashed };

const char* to_string(sim_state state);

struct sim_scsi_attachment {
  std::string path;
  std::string type; // "VirtualDisk" or "PassThru"
  bool read_only = false;
};

struct sim_vpmem_mapping {
  std::string host_path;
  std::string image_format;
};

struct sim_vpmem_device {
  std::string host_path; // the layer the device was added with, at offset 0
  bool read_only = false;
  std::string image_format;
  // Layers packed in later (Devices/<n>/Mappings/<offset>); removing
  // Mappings/0 unmaps the device's own layer.
  std::map<uint64_t, sim_vpmem_mapping> mappings;
  bool base_mapped = true;
};

struct sim_plan9_share {
  std::string access_name;
  std::string path;
  int64_t port = 0;
  int64_t flags = 0;
  std::vector<std::string> allowed_files;
};

struct sim_vsmb_share {
  std::string path;
  std::set<std::string> options; // the VirtualSmbShareOptions that are true
  std::vector<std::string> allowed_files;
};

struct sim_network_adapter {
  std::string endpoint_id;
  std::string mac_address;
};

struct sim_vpci_function {
  std::string device_instance_path;
  uint64_t virtual_function = 0;
};

struct sim_devices {
  // Controller name (the document's map key) -> LUN -> attachment.
  std::map<std::string, std::map<uint32_t, sim_scsi_attachment>> scsi;
  uint32_t vpmem_maximum_count = 0;
  uint64_t vpmem_maximum_size_bytes = 0;
  std::map<uint32_t, sim_vpmem_device> vpmem;
  std::map<std::string, sim_plan9_share> plan9;
  std::map<std::string, sim_vsmb_share> vsmb;
  std::set<std::string> mapped_pipes;
  std::map<std::string, sim_network_adapter> network_adapters;
  std::map<std::string, std::vector<sim_vpci_function>> vpci;
};

// ProcessorLimits: what the host schedules for the VM's processors (0:
// not set).
struct sim_processor_limits {
  uint64_t limit = 0;       // 0-100000, hundredths of a percent of the host
  uint64_t weight = 0;      // 0-10000, relative to other VMs
  uint64_t reservation = 0; // 0-100000, as limit
  uint32_t maximum_frequency_mhz = 0;
};

struct sim_system {
  sim_state state = sim_state::created;
  std::string owner;
  std::string runtime_os; // "linux", "windows" or "" when the boot entry says neither
  std::string runtime_id;
  uint32_t processor_count = 1;
  uint64_t memory_mb = 1024;
  sim_processor_limits processor_limits;
  sim_devices devices;
  std::chrono::system_clock::time_point started_at;
};

// The oracle view of one system (see sim_model::oracle).
nlohmann::json to_oracle(const sim_system& system);

} // namespace uvm::hcs
