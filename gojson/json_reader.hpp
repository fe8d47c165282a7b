// A strict JSON (RFC 8259) reader into nlohmann's value types, for the
// paths that parse every request (the simulated HCS, the guest stub). It
// copies string contents in runs where nlohmann's lexer handles one
// character at a time, which made parsing most of the simulator's cost per
// call.
//
// It accepts and rejects what nlohmann::json::parse accepts and rejects
// (tests compare the two on generated inputs), and gives the same value: a
// leading UTF-8 BOM is skipped, a NUL after the value ends the input,
// strings must be valid UTF-8, a repeated member keeps its last value,
// integers are unsigned when not negative and become floating-point when
// they overflow 64 bits, and a number beyond double's range is an error.
// The one difference: nesting deeper than `max_json_depth` is rejected.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace uvm::gojson {

constexpr int max_json_depth = 512;

// The value `text` holds, or nullopt if it is not one JSON value.
std::optional<nlohmann::json> read_json(std::string_view text);
std::optional<nlohmann::ordered_json> read_ordered_json(std::string_view text);

} // namespace uvm::gojson
