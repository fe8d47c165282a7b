#include "hcs/sim/sim_system.hpp"

namespace uvm::hcs {

const char* to_string(sim_state state) {
  switch (state) {
  case sim_state::created:
    return "created";
  case sim_state::running:
    return "running";
  case sim_state::stopped:
    return "stopped";
  case sim_state::crashed:
    return "crashed";
  }
  return "unknown";
}

namespace {

nlohmann::json scsi_oracle(const sim_devices& devices) {
  auto out = nlohmann::json::object();
  for (const auto& [controller, luns] : devices.scsi) {
    for (const auto& [lun, attachment] : luns) {
      out[controller + ":" + std::to_string(lun)] = {
          {"Path", attachment.path}, {"Type", attachment.type}, {"ReadOnly", attachment.read_only}};
    }
  }
  return out;
}

nlohmann::json vpmem_oracle(const sim_devices& devices) {
  auto out = nlohmann::json::object();
  for (const auto& [number, device] : devices.vpmem) {
    auto& entry = out[std::to_string(number)];
    entry = {{"HostPath", device.host_path},
             {"ReadOnly", device.read_only},
             {"ImageFormat", device.image_format}};
    // Only packed devices show these, so one-layer devices read as before.
    if (!device.base_mapped) {
      entry["BaseMapped"] = false;
    }
    for (const auto& [offset, mapping] : device.mappings) {
      entry["Mappings"][std::to_string(offset)] = {{"HostPath", mapping.host_path},
                                                   {"ImageFormat", mapping.image_format}};
    }
  }
  return out;
}

nlohmann::json plan9_oracle(const sim_devices& devices) {
  auto out = nlohmann::json::object();
  for (const auto& [name, share] : devices.plan9) {
    out[name] = {{"AccessName", share.access_name},
                 {"Path", share.path},
                 {"Port", share.port},
                 {"Flags", share.flags},
                 {"AllowedFiles", share.allowed_files}};
  }
  return out;
}

nlohmann::json vsmb_oracle(const sim_devices& devices) {
  auto out = nlohmann::json::object();
  for (const auto& [name, share] : devices.vsmb) {
    auto options = nlohmann::json::object();
    for (const auto& option : share.options) {
      options[option] = true;
    }
    out[name] = {{"Path", share.path}, {"Options", options}, {"AllowedFiles", share.allowed_files}};
  }
  return out;
}

nlohmann::json network_oracle(const sim_devices& devices) {
  auto out = nlohmann::json::object();
  for (const auto& [id, adapter] : devices.network_adapters) {
    out[id] = {{"EndpointId", adapter.endpoint_id}, {"MacAddress", adapter.mac_address}};
  }
  return out;
}

nlohmann::json vpci_oracle(const sim_devices& devices) {
  auto out = nlohmann::json::object();
  for (const auto& [id, functions] : devices.vpci) {
    auto list = nlohmann::json::array();
    for (const auto& function : functions) {
      list.push_back({{"DeviceInstancePath", function.device_instance_path},
                      {"VirtualFunction", function.virtual_function}});
    }
    out[id] = {{"Functions", list}};
  }
  return out;
}

} // namespace

nlohmann::json to_oracle(const sim_system& system) {
  const auto& devices = system.devices;
  auto controllers = nlohmann::json::array();
  for (const auto& entry : devices.scsi) {
    controllers.push_back(entry.first);
  }
  return {
      {"state", to_string(system.state)},
      {"owner", system.owner},
      {"runtime_os", system.runtime_os},
      {"runtime_id", system.runtime_id},
      {"processor_count", system.processor_count},
      {"memory_mb", system.memory_mb},
      {"processor_limits",
       {{"Limit", system.processor_limits.limit},
        {"Weight", system.processor_limits.weight},
        {"Reservation", system.processor_limits.reservation},
        {"MaximumFrequencyMHz", system.processor_limits.maximum_frequency_mhz}}},
      {"scsi_controllers", controllers},
      {"scsi", scsi_oracle(devices)},
      {"vpmem_maximum_count", devices.vpmem_maximum_count},
      {"vpmem_maximum_size_bytes", devices.vpmem_maximum_size_bytes},
      {"vpmem", vpmem_oracle(devices)},
      {"plan9", plan9_oracle(devices)},
      {"vsmb", vsmb_oracle(devices)},
      {"mapped_pipes", devices.mapped_pipes},
      {"network_adapters", network_oracle(devices)},
      {"vpci", vpci_oracle(devices)},
  };
}

} // namespace uvm::hcs
