// Options from a scenario line's "options" object, keyed by the seed's
// field names (ID, Owner, MemorySizeInMB, ...). Omitted fields keep the
// defaults of NewDefaultOptionsLCOW / NewDefaultOptionsWCOW. Every field
// must have its Go type: an integer must fit its Go (= C++) type exactly,
// enumerations take only their values, unknown fields are an error, and
// every error names the field. Pure: only the defaults look at the file
// system, through `exists`.
#pragma once

#include <nlohmann/json.hpp>

#include "messages/errors.hpp"
#include "messages/options.hpp"
#include "messages/vm_types.hpp"

namespace uvm::cli {

// std::filesystem::exists, errors counting as absent.
bool host_path_exists(const std::string& path);

result<options_lcow> lcow_options_from_json(const nlohmann::json& j, const host_info& host,
                                            const exists_fn& exists = host_path_exists);
result<options_wcow> wcow_options_from_json(const nlohmann::json& j, const host_info& host);
// {"policy":"on-failure","max_restarts":3,"window_ms":60000,"backoff_ms":100,"backoff_max_ms":5000}
result<restart_policy> restart_policy_from_json(const nlohmann::json& j);

} // namespace uvm::cli
