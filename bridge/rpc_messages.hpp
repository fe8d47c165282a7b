// The JSON bodies of the GCS bridge (gcs-bridge.md §6-§8): what the host
// sends and parses, what the guest parses and answers. Host-sent bodies end
// with the newline of Go's stream encoder; guest-sent bodies do not. Member
// names are matched case-insensitively on parse, extra members ignored.
// "JSON-in-string" members (ContainerConfig, ProcessParameters, Query,
// Properties, ResultInfo) are carried as the JSON text they hold.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/errors.hpp"

namespace uvm::bridge {

constexpr const char* zero_guid = "00000000-0000-0000-0000-000000000000";
constexpr uint32_t protocol_version = 4;
constexpr uint32_t infinite_timeout_ms = 0xFFFFFFFF;

// HRESULTs on the wire (§12), as uint32; `Result` is their signed form.
namespace hresult {
constexpr uint32_t ok = 0;
constexpr uint32_t not_impl = 0x80004001;
constexpr uint32_t fail = 0x80004005;
constexpr uint32_t not_found = 0x80070490;
constexpr uint32_t invalid_arg = 0x80070057;
constexpr uint32_t wait_timeout = 0xC0370109;
constexpr uint32_t unknown_message = 0xC037010B;
constexpr uint32_t unsupported_version = 0xC037010C;
constexpr uint32_t invalid_json = 0xC037010D;
constexpr uint32_t system_not_found = 0xC037010E;
constexpr uint32_t already_exists = 0xC037010F;
constexpr uint32_t already_stopped = 0xC0370110;
} // namespace hresult

// --- requests (host -> guest) ---

// ContainerId and ActivityId lead every request.
struct request_base {
  std::string container_id;
  std::string activity_id = zero_guid;
};

struct negotiate_request {
  request_base base{"", zero_guid};
  uint32_t minimum_version = protocol_version;
  uint32_t maximum_version = protocol_version;
};

struct create_request {
  request_base base;
  std::string container_config; // JSON text
};

// Vsock ports of the stdio relays; 0 = stream not requested (member omitted).
struct stdio_ports {
  uint32_t std_in = 0;
  uint32_t std_out = 0;
  uint32_t std_err = 0;
};

struct execute_process_request {
  request_base base;
  std::string process_parameters; // JSON text
  stdio_ports ports;              // VsockStdioRelaySettings
};

struct wait_for_process_request {
  request_base base;
  uint32_t process_id = 0;
  uint32_t timeout_ms = infinite_timeout_ms;
};

struct signal_process_request {
  request_base base;
  uint32_t process_id = 0;
  std::optional<int32_t> signal; // absent = kill (no Options member)
};

struct resize_console_request {
  request_base base;
  uint32_t process_id = 0;
  uint16_t height = 0;
  uint16_t width = 0;
};

struct get_properties_request {
  request_base base;
  std::string query; // JSON text
};

struct modify_settings_request {
  request_base base;
  std::string request; // the GuestRequest object as JSON text
};

// Host-side bodies, each ending with "\n". Start, ShutdownGraceful,
// ShutdownForced, DumpStacks and DeleteContainerState carry only the base.
std::string encode(const negotiate_request& r);
std::string encode(const create_request& r);
std::string encode(const execute_process_request& r);
std::string encode(const wait_for_process_request& r);
std::string encode(const signal_process_request& r);
std::string encode(const resize_console_request& r);
std::string encode(const get_properties_request& r);
std::string encode(const modify_settings_request& r);
std::string encode(const request_base& r);

// Guest-side parsing; a body that is not a JSON object, or a member of the
// wrong type, is errc::bad_request with the reason (answered 0xC037010D).
result<request_base> parse_base(std::string_view body);
result<negotiate_request> parse_negotiate(std::string_view body);
result<create_request> parse_create(std::string_view body);
result<execute_process_request> parse_execute_process(std::string_view body);
result<wait_for_process_request> parse_wait_for_process(std::string_view body);
result<signal_process_request> parse_signal_process(std::string_view body);
result<resize_console_request> parse_resize_console(std::string_view body);
result<get_properties_request> parse_get_properties(std::string_view body);
result<modify_settings_request> parse_modify_settings(std::string_view body);

// --- responses (guest -> host) ---

struct error_record {
  int32_t result = 0;
  std::string message;
  std::string stack_trace; // omitted when empty
  std::string module_name = "gcs";
  std::string file_name;
  uint32_t line = 0xFFFFFFFF;
  std::string function_name; // omitted when empty
};

// The response base plus the members of the RPC's response. Only the
// members the RPC has are written: `version`/`capabilities` for
// NegotiateProtocol, `process_id` for ExecuteProcess, `exit_code` for
// WaitForProcess, `properties` for GetProperties, `guest_stacks` for
// DumpStacks, `selected_protocol_version` for Create.
struct response {
  uint32_t result = hresult::ok;
  std::optional<std::string> activity_id; // absent when the request was not JSON
  std::string error_message;
  std::vector<error_record> error_records;

  std::optional<uint32_t> version;
  std::optional<std::string> capabilities; // the Capabilities object as JSON text
  std::optional<uint32_t> process_id;
  std::optional<uint32_t> exit_code;
  std::optional<std::string> properties; // JSON text, sent as a string
  std::optional<std::string> guest_stacks;
  std::optional<uint32_t> selected_protocol_version;

  bool ok() const { return result == hresult::ok; }
};

// A failed response with one error record, as the Linux GCS writes them.
response failure(uint32_t hr, std::string message, std::optional<std::string> activity_id);

// Guest-side body (no trailing newline).
std::string encode(const response& r);
// Host-side parsing: a body that does not decode is
// "bridge response unmarshal failed: <reason>" (fatal for the bridge), as
// is an ActivityId that is present but not a GUID.
result<response> parse_response(std::string_view body);

// The Linux GCS's Capabilities (negotiate-protocol-response vector).
std::string linux_capabilities();

// Guest capabilities the host acts on (uvm-api.md §15).
struct guest_capabilities {
  bool namespace_add_request_supported = false;
  bool signal_process_supported = false;
  bool dump_stacks_supported = false;
  bool delete_container_state_supported = false;
  std::string runtime_os_type;
  bool send_host_create_message = false;
  bool send_host_start_message = false;
};
result<guest_capabilities> parse_capabilities(std::string_view capabilities_json);

// --- notifications (guest -> host) ---

struct container_notification {
  std::string container_id;
  std::string activity_id = zero_guid; // the Create's
  std::string type = "UnexpectedExit"; // GracefulExit, ForcedExit, ...
  std::string operation = "None";
  int32_t result = 0;
  std::string result_info; // JSON text; omitted when empty
};

std::string encode(const container_notification& n);
// "bridge response unmarshal failed: <reason>" when it does not decode
// (including a ResultInfo that is present but not a JSON document).
result<container_notification> parse_notification(std::string_view body);

} // namespace uvm::bridge
