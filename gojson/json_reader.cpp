#include "gojson/json_reader.hpp"

#include "gojson/json_lexer.hpp"

namespace uvm::gojson {

namespace {

template <class Json>
std::optional<Json> read(std::string_view text) {
  Json out;
  if (!detail::reader<Json>(text).document(out)) {
    return std::nullopt;
  }
  return out;
}

} // namespace

std::optional<nlohmann::json> read_json(std::string_view text) {
  return read<nlohmann::json>(text);
}

std::optional<nlohmann::ordered_json> read_ordered_json(std::string_view text) {
  return read<nlohmann::ordered_json>(text);
}

} // namespace uvm::gojson
