// A pure model of HCS compute systems: what the simulated HCS believes about
// every system, and the checks it applies to each call. No threads, no
// timers; sim_backend adds those. Every call returns the call_result HCS
// would give: an HRESULT and a message naming what is wrong
// (hcs-schema.md §2.6).
//
// Lifecycle errors: unknown id 0xC037010E; create of an existing id
// 0xC037010F; start of a system that is not freshly created, or modify of one
// that is not running, 0xC0370105; properties of a stopped or crashed system
// 0xC0370105 (a created one answers, as hcsshim queries it before start);
// shutdown/terminate of a stopped or crashed system 0xC0370110. Document,
// request and query errors: see sim_document, sim_devices, sim_topology,
// sim_properties.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "hcs/backend.hpp"
#include "hcs/sim/sim_system.hpp"

namespace uvm::hcs {

class sim_model {
public:
  using clock = std::function<std::chrono::system_clock::time_point()>;

  // `seed` makes RuntimeIds reproducible; `now` (default: the system clock)
  // is the time statistics are reported at.
  explicit sim_model(uint64_t seed = 1, clock now = {});

  call_result create(const std::string& id, const std::string& document);
  call_result start(const std::string& id);
  call_result modify(const std::string& id, const std::string& request);
  call_result shutdown(const std::string& id);
  call_result terminate(const std::string& id);
  call_result properties(const std::string& id, const std::string& query);
  // Dispatches to the call above; `text` is the document, request or query
  // (ignored for start, shutdown and terminate).
  call_result apply(call_kind kind, const std::string& id, const std::string& text);

  // The guest stops on its own: a created or running system becomes
  // crashed. False when there is nothing to crash (unknown or already down).
  bool crash(const std::string& id);
  // Forgets the system; its id is free for a new create. Idempotent.
  void close(const std::string& id);

  std::optional<sim_state> state(const std::string& id) const;
  // Every system by id: {"state", "owner", "runtime_os", "runtime_id",
  // "processor_count", "memory_mb",
  // "processor_limits": {"Limit","Weight","Reservation","MaximumFrequencyMHz"},
  // "scsi_controllers": [names],
  // "scsi": {"C:L": {"Path","Type","ReadOnly"}}, "vpmem_maximum_count",
  // "vpmem_maximum_size_bytes",
  // "vpmem": {"N": {"HostPath","ReadOnly","ImageFormat"}},
  // "plan9": {name: {"AccessName","Path","Port","Flags","AllowedFiles"}},
  // "vsmb": {name: {"Path","Options": {option: true},"AllowedFiles"}},
  // "mapped_pipes": [paths], "network_adapters": {guid: {"EndpointId","MacAddress"}},
  // "vpci": {guid: {"Functions": [{"DeviceInstancePath","VirtualFunction"}]}}}.
  nlohmann::json oracle() const;

private:
  sim_system* find(const std::string& id);
  call_result stop(const std::string& id);
  std::string next_runtime_id();

  std::unordered_map<std::string, sim_system> systems_;
  std::mt19937_64 rng_;
  clock now_;
};

} // namespace uvm::hcs
