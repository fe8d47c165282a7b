// What the guest agent reads from ExecuteProcess and Create (hcs-schema.md
// §8, gcs-bridge.md §7.1, §7.5) and the host facts it needs: process specs
// from OCI process objects and from UVM process parameters, the stdio relay
// sockets it dials, and its own threads for DumpStacks.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "guest/process.hpp"

namespace uvm::guest {

// A member by name, case-insensitively (nullptr when absent or `obj` is not
// an object).
const nlohmann::json* member(const nlohmann::json& obj, std::string_view name);
bool flag(const nlohmann::json& obj, std::string_view name);
std::string text(const nlohmann::json& obj, std::string_view name);

// An OCI process spec: args, env ("K=V" list), cwd.
result<process_spec> oci_process_spec(const nlohmann::json& oci);
// A process run directly in the utility VM: CommandArgs, or CommandLine
// split into words; Environment; WorkingDirectory.
result<process_spec> uvm_process_spec(const nlohmann::json& params);

// Dials the host's relay socket "<dir>/port-<port>.sock" (the guest dials,
// gcs-bridge.md §9).
result<int> dial_relay(const std::string& dir, uint32_t port);

// The agent's threads and what each waits in, from /proc.
std::string thread_dump();

} // namespace uvm::guest
