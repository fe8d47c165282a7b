// Options from a scenario line's "options" object, keyed by the seed's
// field names (ID, Owner, MemorySizeInMB, ...). Omitted fields keep the
// defaults of NewDefaultOptionsLCOW / NewDefaultOptionsWCOW.
#pragma once

#include <nlohmann/json.hpp>

#include "messages/errors.hpp"
#include "messages/options.hpp"
#include "messages/vm_types.hpp"

namespace uvm::cli {

result<options_lcow> lcow_options_from_json(const nlohmann::json& j, const host_info& host);
result<options_wcow> wcow_options_from_json(const nlohmann::json& j, const host_info& host);
// {"policy":"on-failure","max_restarts":3,"window_ms":60000,"backoff_ms":100,"backoff_max_ms":5000}
result<restart_policy> restart_policy_from_json(const nlohmann::json& j);

} // namespace uvm::cli
