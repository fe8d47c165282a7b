#include "bench/core/fleet_profile.hpp"

#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace uvm::bench {

namespace {

constexpr const char* op_names[fleet_op_count] = {
    "vm_churn", "scsi", "vpmem", "plan9", "process", "stats", "hcs_fault", "guest_fault", "crash"};

const std::set<std::string> sim_calls{"create",   "start",     "modify",
                                      "shutdown", "terminate", "properties"};

std::invalid_argument bad(const std::string& why) {
  return std::invalid_argument("profile: " + why);
}

void only_fields(const nlohmann::json& j, const std::string& where,
                 const std::set<std::string>& allowed) {
  for (const auto& [key, value] : j.items()) {
    if (allowed.count(key) == 0) {
      throw bad("unknown field " + where + key);
    }
  }
}

double positive_number(const nlohmann::json& j, const std::string& name, double max) {
  if (!j.is_number() || !(j.get<double>() > 0) || j.get<double>() > max) {
    throw bad(name + " must be a number above 0 and at most " + std::to_string(max));
  }
  return j.get<double>();
}

uint32_t count_field(const nlohmann::json& j, const std::string& name, uint32_t min, uint32_t max) {
  if (!j.is_number_unsigned() || j.get<uint64_t>() < min || j.get<uint64_t>() > max) {
    throw bad(name + " must be an integer from " + std::to_string(min) + " to " +
              std::to_string(max));
  }
  return static_cast<uint32_t>(j.get<uint64_t>());
}

std::string text_field(const nlohmann::json& j, const std::string& name) {
  if (!j.is_string()) {
    throw bad(name + " must be a string");
  }
  return j.get<std::string>();
}

} // namespace

const char* fleet_op_name(fleet_op op) {
  return op_names[static_cast<int>(op)];
}

fleet_op parse_fleet_op(const std::string& name) {
  for (int i = 0; i < fleet_op_count; ++i) {
    if (name == op_names[i]) {
      return static_cast<fleet_op>(i);
    }
  }
  throw bad("unknown operation \"" + name + "\"");
}

fleet_profile parse_fleet_profile(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    throw bad("not a JSON object");
  }
  only_fields(j, "",
              {"name", "description", "arrival", "rate", "vms", "create_window", "backend",
               "boot_files", "guest_command", "sim_latency_us", "ops", "capacity", "stalls"});
  fleet_profile p;
  if (!j.contains("name") || !j.contains("ops")) {
    throw bad("name and ops are required");
  }
  p.name = text_field(j["name"], "name");
  if (j.contains("description")) {
    p.description = text_field(j["description"], "description");
  }
  if (j.contains("arrival")) {
    p.arrival = parse_arrival_kind(text_field(j["arrival"], "arrival"));
  }
  if (j.contains("rate")) {
    p.rate = positive_number(j["rate"], "rate", 1e7);
  }
  if (j.contains("vms")) {
    p.vms = count_field(j["vms"], "vms", 1, 10000000);
  }
  if (j.contains("create_window")) {
    p.create_window = count_field(j["create_window"], "create_window", 1, 100000);
  }
  if (j.contains("backend")) {
    p.backend = text_field(j["backend"], "backend");
    if (p.backend != "sim" && p.backend != "qemu") {
      throw bad("backend must be \"sim\" or \"qemu\"");
    }
  }
  if (j.contains("boot_files")) {
    p.boot_files = text_field(j["boot_files"], "boot_files");
  }
  if (j.contains("guest_command")) {
    p.guest_command = text_field(j["guest_command"], "guest_command");
  }
  if (j.contains("sim_latency_us")) {
    const auto& l = j["sim_latency_us"];
    if (!l.is_object()) {
      throw bad("sim_latency_us must be an object of call kinds");
    }
    for (const auto& [call, range] : l.items()) {
      if (sim_calls.count(call) == 0) {
        throw bad("sim_latency_us: unknown call kind \"" + call + "\"");
      }
      if (!range.is_array() || range.size() != 2) {
        throw bad("sim_latency_us." + call + " must be [min, max]");
      }
      sim_latency_range r{count_field(range[0], "sim_latency_us." + call + "[0]", 0, 60000000),
                          count_field(range[1], "sim_latency_us." + call + "[1]", 0, 60000000)};
      if (r.min_us > r.max_us) {
        throw bad("sim_latency_us." + call + ": min above max");
      }
      p.sim_latency[call] = r;
    }
  }
  if (!j["ops"].is_object()) {
    throw bad("ops must be an object of operation weights");
  }
  for (const auto& [name, w] : j["ops"].items()) {
    auto op = parse_fleet_op(name);
    if (!w.is_number() || w.get<double>() < 0) {
      throw bad("ops." + name + " must be a weight of at least 0");
    }
    if (w.get<double>() > 0) {
      p.weights.emplace_back(op, w.get<double>());
    }
  }
  if (p.weights.empty()) {
    throw bad("ops needs at least one positive weight");
  }
  if (j.contains("capacity")) {
    const auto& c = j["capacity"];
    if (!c.is_object()) {
      throw bad("capacity must be an object");
    }
    only_fields(c, "capacity.", {"start_rate", "factor", "max_rate", "step_seconds"});
    if (c.contains("start_rate")) {
      p.ramp.start_rate = positive_number(c["start_rate"], "capacity.start_rate", 1e7);
    }
    if (c.contains("factor")) {
      p.ramp.factor = positive_number(c["factor"], "capacity.factor", 100);
      if (p.ramp.factor <= 1) {
        throw bad("capacity.factor must be above 1");
      }
    }
    if (c.contains("max_rate")) {
      p.ramp.max_rate = positive_number(c["max_rate"], "capacity.max_rate", 1e7);
    }
    if (c.contains("step_seconds")) {
      p.ramp.step_seconds = positive_number(c["step_seconds"], "capacity.step_seconds", 3600);
    }
  }
  if (j.contains("stalls")) {
    if (!j["stalls"].is_array()) {
      throw bad("stalls must be an array");
    }
    for (const auto& s : j["stalls"]) {
      if (!s.is_object() || !s.contains("at_s") || !s.contains("ms")) {
        throw bad("each stall needs at_s and ms");
      }
      only_fields(s, "stalls[].", {"at_s", "ms"});
      if (!s["at_s"].is_number() || s["at_s"].get<double>() < 0) {
        throw bad("stalls[].at_s must be a number of at least 0");
      }
      p.stalls.push_back({s["at_s"].get<double>(), count_field(s["ms"], "stalls[].ms", 1, 60000)});
    }
  }
  return p;
}

} // namespace uvm::bench
