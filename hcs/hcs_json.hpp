// Reading HCS JSON the way HCS reads it: member names match case-insensitively,
// unknown members are ignored, null counts as absent, and a member of the
// wrong type makes the whole text invalid (0xC037010D). What a backend
// refuses it throws as a `rejection`, which it turns into a call_result at
// its boundary. Shared by the simulator and the QEMU backend.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace uvm::hcs {

struct rejection : std::runtime_error {
  rejection(uint32_t code, const std::string& message)
      : std::runtime_error(message), hresult(code) {}
  uint32_t hresult;
};

[[noreturn]] void reject(uint32_t hresult, const std::string& message);

// `what` names the text in error messages ("document", "request", "query").
nlohmann::json parse_object(const std::string& text, const char* what);

// The member, or nullptr when absent or null.
const nlohmann::json* find_member(const nlohmann::json& obj, std::string_view name);
// The member if it is an object; nullptr when absent; rejects another type.
const nlohmann::json* object_member(const nlohmann::json& obj, std::string_view name);
std::string string_member(const nlohmann::json& obj, std::string_view name);
bool bool_member(const nlohmann::json& obj, std::string_view name);
uint64_t uint_member(const nlohmann::json& obj, std::string_view name);
int64_t int_member(const nlohmann::json& obj, std::string_view name);
std::vector<std::string> strings_member(const nlohmann::json& obj, std::string_view name);
// Array members; an empty array when absent.
const nlohmann::json& array_member(const nlohmann::json& obj, std::string_view name);

// A decimal index such as a LUN or device number in a map key or path.
std::optional<uint32_t> parse_index(std::string_view text);

bool equal_ci(std::string_view a, std::string_view b);

} // namespace uvm::hcs
