// JSON exactly as Go's encoding/json writes and reads it (hcs-schema.md §1).
// HCS documents and requests are compared byte for byte with what hcsshim
// sends, so member order, escaping and number formatting must match.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace uvm::gojson {

// Compact, no trailing newline; members in the order the value holds them;
// strings escaped with Go's HTML-safe rules (<, >, & as \u003c, \u003e,
// \u0026; U+2028/U+2029 escaped; invalid UTF-8 as \ufffd); floating-point
// numbers in Go's shortest form (1e+21, 1e-7, 0.5, 1024).
std::string go_dump(const nlohmann::ordered_json& value);

// go_dump appended to `out`, and one string the way go_dump writes it.
void go_append(std::string& out, const nlohmann::ordered_json& value);
void go_append_string(std::string& out, std::string_view s);

// The error json.Unmarshal reports for malformed `text` ("invalid character
// 'x' looking for beginning of value", "unexpected end of JSON input", ...),
// or an empty string when `text` is well-formed JSON.
std::string go_syntax_error(std::string_view text);

// Go's rule for decoding a member: an exact name match wins, otherwise the
// first member whose name matches ignoring ASCII case. nullptr if `obj` is
// not an object or has no such member.
const nlohmann::json* find_ci(const nlohmann::json& obj, std::string_view name);

} // namespace uvm::gojson
