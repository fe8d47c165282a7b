#include "bridge/rpc_messages.hpp"

#include <cctype>
#include <limits>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include "gojson/go_json.hpp"
#include "gojson/json_reader.hpp"

namespace uvm::bridge {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;
using gojson::find_ci;
using gojson::go_dump;

constexpr const char* unmarshal_failed = "bridge response unmarshal failed: ";

// encoding/json's names for a JSON value in its type errors.
std::string kind(const json& v) {
  switch (v.type()) {
  case json::value_t::string:
    return "string";
  case json::value_t::boolean:
    return "bool";
  case json::value_t::array:
    return "array";
  case json::value_t::object:
    return "object";
  case json::value_t::null:
    return "null";
  default:
    return "number";
  }
}

template <class Int>
constexpr const char* go_int_name() {
  static_assert(std::is_same_v<Int, int32_t> || std::is_same_v<Int, uint32_t> ||
                std::is_same_v<Int, uint16_t>);
  if constexpr (std::is_same_v<Int, int32_t>) {
    return "int32";
  } else if constexpr (std::is_same_v<Int, uint16_t>) {
    return "uint16";
  } else {
    return "uint32";
  }
}

// Go's %q for the ASCII range; other bytes are kept as they are.
std::string go_quote(const std::string& s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xF];
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

// go-winio's guid.FromString: 8-4-4-4-12 hex digits of either case.
bool is_guid(const std::string& s) {
  if (s.size() != 36) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) {
      return false;
    }
  }
  return true;
}

// `text` as a JSON object, or the reason in Go's words in `err`.
std::optional<json> parse_object(std::string_view text, const std::string& go_type,
                                 std::string& err) {
  // Go's scanner first: its words, and its depth limit before nlohmann recurses.
  err = gojson::go_syntax_error(text);
  if (!err.empty()) {
    return std::nullopt;
  }
  // gojson's reader gives nlohmann's value at a fraction of its cost; what
  // it refuses (nesting past its limit, invalid UTF-8) nlohmann decides.
  auto read = gojson::read_json(text);
  json doc = read ? std::move(*read) : json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded()) {
    // Go accepts these (it substitutes U+FFFD); nlohmann does not.
    err = "invalid UTF-8 or surrogate escape in string";
    return std::nullopt;
  }
  if (!doc.is_object()) {
    err = "json: cannot unmarshal " + kind(doc) + " into Go value of type " + go_type;
    return std::nullopt;
  }
  return doc;
}

// Scanning text already known to be valid JSON: the index after the
// string or value that starts at `i`.
size_t after_string(std::string_view t, size_t i) {
  for (++i; i < t.size() && t[i] != '"'; ++i) {
    if (t[i] == '\\') {
      ++i;
    }
  }
  return i + 1;
}

size_t after_value(std::string_view t, size_t i) {
  if (t[i] == '"') {
    return after_string(t, i);
  }
  if (t[i] != '{' && t[i] != '[') {
    while (i < t.size() && t[i] != ',' && t[i] != '}' && t[i] != ']' && t[i] != ' ' &&
           t[i] != '\t' && t[i] != '\n' && t[i] != '\r') {
      ++i;
    }
    return i;
  }
  int depth = 0;
  for (; i < t.size(); ++i) {
    if (t[i] == '"') {
      i = after_string(t, i) - 1;
    } else if (t[i] == '{' || t[i] == '[') {
      ++depth;
    } else if ((t[i] == '}' || t[i] == ']') && --depth == 0) {
      return i + 1;
    }
  }
  return t.size();
}

size_t after_space(std::string_view t, size_t i) {
  while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) {
    ++i;
  }
  return i;
}

// The text of the last member named exactly `name` (as a duplicate name
// ends up) of the valid JSON object `object`; none when a name on the way
// holds an escape (its text is not its name).
std::optional<std::string_view> member_text(std::string_view object, const std::string& name) {
  std::optional<std::string_view> found;
  auto i = after_space(object, 0);
  if (i >= object.size() || object[i] != '{') {
    return std::nullopt;
  }
  i = after_space(object, i + 1);
  while (i < object.size() && object[i] == '"') {
    auto key_end = after_string(object, i);
    auto key = object.substr(i + 1, key_end - i - 2);
    if (key.find('\\') != std::string_view::npos) {
      return std::nullopt;
    }
    i = after_space(object, after_space(object, key_end) + 1); // past ':'
    auto value_end = after_value(object, i);
    if (key == name) {
      found = object.substr(i, value_end - i);
    }
    i = after_space(object, value_end);
    if (i < object.size() && object[i] == ',') {
      i = after_space(object, i + 1);
    }
  }
  return found;
}

// Reads the members of one JSON object as encoding/json fills a Go struct:
// names match case-insensitively, absent and null members leave the field
// as it is, and the first member of the wrong type becomes the error.
class fields {
public:
  fields(const json& obj, std::string go_struct, std::string& err)
      : obj_(obj), struct_(std::move(go_struct)), err_(err) {}

  // The same error for a nested Go struct.
  fields nested(const json& obj, std::string go_struct) const {
    return fields(obj, std::move(go_struct), err_);
  }

  const json* find(std::string_view name) const {
    const json* v = gojson::find_ci(obj_, name);
    return v != nullptr && !v->is_null() ? v : nullptr;
  }

  void fail(std::string text) {
    if (err_.empty()) {
      err_ = std::move(text);
    }
  }

  void wrong(std::string_view name, const std::string& value, std::string_view go_type) {
    fail("json: cannot unmarshal " + value + " into Go struct field " + struct_ + "." +
         std::string(name) + " of type " + std::string(go_type));
  }

  void get(std::string_view name, std::string& out) {
    if (const json* v = find(name)) {
      if (v->is_string()) {
        out = v->get<std::string>();
      } else {
        wrong(name, kind(*v), "string");
      }
    }
  }

  void get(std::string_view name, bool& out) {
    if (const json* v = find(name)) {
      if (v->is_boolean()) {
        out = v->get<bool>();
      } else {
        wrong(name, kind(*v), "bool");
      }
    }
  }

  template <class Int>
  void get(std::string_view name, Int& out) {
    const json* v = find(name);
    if (v == nullptr) {
      return;
    }
    if (!v->is_number()) {
      return wrong(name, kind(*v), go_int_name<Int>());
    }
    bool fits = false;
    if (v->is_number_unsigned()) {
      fits = v->get<uint64_t>() <= std::numeric_limits<Int>::max();
    } else if (v->is_number_integer()) {
      auto n = v->get<int64_t>();
      fits = n >= std::numeric_limits<Int>::min() && n <= std::numeric_limits<Int>::max();
    }
    if (!fits) {
      return wrong(name, "number " + v->dump(), go_int_name<Int>());
    }
    out = v->get<Int>();
  }

  template <class Int>
  void get(std::string_view name, std::optional<Int>& out) {
    if (find(name) != nullptr) {
      Int value = 0;
      get(name, value);
      out = value;
    }
  }

  // A member decoded into a nested Go struct; nullptr when absent, null or
  // of another type (then the error).
  const json* object(std::string_view name, std::string_view go_type) {
    const json* v = find(name);
    if (v != nullptr && !v->is_object()) {
      wrong(name, kind(*v), go_type);
      return nullptr;
    }
    return v;
  }

  // A guid.GUID member (host side): a string that parses as a GUID.
  void guid(std::string_view name, std::string& out) {
    if (const json* v = find(name)) {
      if (!v->is_string()) {
        return wrong(name, kind(*v), "guid.GUID");
      }
      out = v->get<std::string>();
      if (!is_guid(out)) {
        fail("invalid GUID " + go_quote(out));
      }
    }
  }

  // A JSON-in-string member the host decodes with UnmarshalText: the text
  // must itself be a JSON document, "" included.
  void document(std::string_view name, std::string& out, std::string_view go_type) {
    if (const json* v = find(name)) {
      if (!v->is_string()) {
        return wrong(name, kind(*v), go_type);
      }
      out = v->get<std::string>();
      if (auto reason = gojson::go_syntax_error(out); !reason.empty()) {
        fail(std::move(reason));
      }
    }
  }

  // A member of the top-level object of `body`, as text with its members in
  // the order they came (the lookup parse sorts names): the text as it
  // came, or, when its name needs unescaping, as Go writes it.
  std::string in_order(std::string_view body, const json* member) const {
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      if (&*it == member) {
        if (auto text = member_text(body, it.key())) {
          return std::string{*text};
        }
        return gojson::go_dump(ojson::parse(body.begin(), body.end())[it.key()]);
      }
    }
    return {};
  }

private:
  const json& obj_;
  std::string struct_;
  std::string& err_;
};

// JSON text embedded as a value; text that does not parse is written as
// null, as Go writes a nil interface.
ojson embedded(const std::string& text) {
  if (auto read = gojson::read_ordered_json(text)) {
    return std::move(*read);
  }
  ojson v = ojson::parse(text, nullptr, false);
  return v.is_discarded() ? ojson(nullptr) : v;
}

ojson base_json(const request_base& b) {
  ojson o = ojson::object();
  o["ContainerId"] = b.container_id;
  o["ActivityId"] = b.activity_id;
  return o;
}

// The stream encoder's newline ends every host body.
std::string host_body(const ojson& o) {
  return gojson::go_dump(o) + "\n";
}

// Parsed members are Go's zero values when absent, not the struct defaults:
// what the HEAD guest (plain string ActivityId) would act on.
request_base read_base(fields& f) {
  request_base b{"", ""};
  f.get("ContainerId", b.container_id);
  f.get("ActivityId", b.activity_id);
  return b;
}

// The guest unmarshals this document before acting on it.
void require_document(fields& f, std::string_view name, const std::string& text) {
  if (auto reason = gojson::go_syntax_error(text); !reason.empty()) {
    f.fail("invalid " + std::string(name) + ": " + reason);
  }
}

template <class T, class Fill>
result<T> parse_request(std::string_view body, const char* go_struct, Fill fill) {
  std::string err;
  T value{};
  if (auto doc = parse_object(body, std::string("prot.") + go_struct, err)) {
    fields f(*doc, go_struct, err);
    fill(f, value);
  }
  if (!err.empty()) {
    return error(errc::bad_request, std::move(err));
  }
  return value;
}

ojson record_json(const error_record& e) {
  ojson o = ojson::object();
  o["Result"] = e.result;
  o["Message"] = e.message;
  if (!e.stack_trace.empty()) {
    o["StackTrace"] = e.stack_trace;
  }
  o["ModuleName"] = e.module_name;
  o["FileName"] = e.file_name;
  o["Line"] = e.line;
  if (!e.function_name.empty()) {
    o["FunctionName"] = e.function_name;
  }
  return o;
}

// Zero values for absent members, as the host's Go struct has.
error_record read_record(fields f) {
  error_record e{0, "", "", "", "", 0, ""};
  f.get("Result", e.result);
  f.get("Message", e.message);
  f.get("StackTrace", e.stack_trace);
  f.get("ModuleName", e.module_name);
  f.get("FileName", e.file_name);
  f.get("Line", e.line);
  f.get("FunctionName", e.function_name);
  return e;
}

void read_records(fields& f, std::vector<error_record>& out) {
  const json* records = f.find("ErrorRecords");
  if (records == nullptr) {
    return;
  }
  if (!records->is_array()) {
    return f.wrong("ErrorRecords", kind(*records), "[]gcs.errorRecord");
  }
  for (const json& r : *records) {
    // A null element stays a zero record, as in Go.
    if (!r.is_null() && !r.is_object()) {
      return f.wrong("ErrorRecords", kind(r), "gcs.errorRecord");
    }
    out.push_back(read_record(f.nested(r, "errorRecord")));
  }
}

} // namespace

std::string encode(const negotiate_request& r) {
  ojson o = base_json(r.base);
  o["MinimumVersion"] = r.minimum_version;
  o["MaximumVersion"] = r.maximum_version;
  return host_body(o);
}

std::string encode(const create_request& r) {
  ojson o = base_json(r.base);
  o["ContainerConfig"] = r.container_config;
  return host_body(o);
}

std::string encode(const execute_process_request& r) {
  // Always present for a Linux guest, possibly {} (gcs-bridge.md §7.5).
  ojson relay = ojson::object();
  for (auto [name, port] :
       {std::pair{"StdIn", r.ports.std_in}, std::pair{"StdOut", r.ports.std_out},
        std::pair{"StdErr", r.ports.std_err}}) {
    if (port != 0) {
      relay[name] = port;
    }
  }
  ojson settings = ojson::object();
  settings["ProcessParameters"] = r.process_parameters;
  settings["VsockStdioRelaySettings"] = std::move(relay);
  ojson o = base_json(r.base);
  o["Settings"] = std::move(settings);
  return host_body(o);
}

std::string encode(const wait_for_process_request& r) {
  ojson o = base_json(r.base);
  o["ProcessId"] = r.process_id;
  o["TimeoutInMs"] = r.timeout_ms;
  return host_body(o);
}

std::string encode(const signal_process_request& r) {
  ojson o = base_json(r.base);
  o["ProcessId"] = r.process_id;
  if (r.signal) {
    o["Options"] = ojson{{"Signal", *r.signal}};
  }
  return host_body(o);
}

std::string encode(const resize_console_request& r) {
  ojson o = base_json(r.base);
  o["ProcessId"] = r.process_id;
  o["Height"] = r.height;
  o["Width"] = r.width;
  return host_body(o);
}

std::string encode(const get_properties_request& r) {
  ojson o = base_json(r.base);
  o["Query"] = r.query;
  return host_body(o);
}

std::string encode(const modify_settings_request& r) {
  ojson o = base_json(r.base);
  o["Request"] = embedded(r.request);
  return host_body(o);
}

std::string encode(const request_base& r) {
  return host_body(base_json(r));
}

result<request_base> parse_base(std::string_view body) {
  return parse_request<request_base>(body, "MessageBase",
                                     [](fields& f, request_base& r) { r = read_base(f); });
}

result<negotiate_request> parse_negotiate(std::string_view body) {
  return parse_request<negotiate_request>(body, "NegotiateProtocol",
                                          [](fields& f, negotiate_request& r) {
                                            r.base = read_base(f);
                                            r.minimum_version = 0;
                                            r.maximum_version = 0;
                                            f.get("MinimumVersion", r.minimum_version);
                                            f.get("MaximumVersion", r.maximum_version);
                                          });
}

result<create_request> parse_create(std::string_view body) {
  return parse_request<create_request>(body, "ContainerCreate", [](fields& f, create_request& r) {
    r.base = read_base(f);
    f.get("ContainerConfig", r.container_config);
    require_document(f, "ContainerConfig", r.container_config);
  });
}

result<execute_process_request> parse_execute_process(std::string_view body) {
  return parse_request<execute_process_request>(
      body, "ContainerExecuteProcess", [](fields& f, execute_process_request& r) {
        r.base = read_base(f);
        if (const json* settings = f.object("Settings", "prot.ExecuteProcessSettings")) {
          fields s = f.nested(*settings, "ExecuteProcessSettings");
          s.get("ProcessParameters", r.process_parameters);
          if (const json* relay = s.object("VsockStdioRelaySettings",
                                           "prot.ExecuteProcessVsockStdioRelaySettings")) {
            fields p = s.nested(*relay, "ExecuteProcessVsockStdioRelaySettings");
            p.get("StdIn", r.ports.std_in);
            p.get("StdOut", r.ports.std_out);
            p.get("StdErr", r.ports.std_err);
          }
        }
        require_document(f, "ProcessParameters", r.process_parameters);
      });
}

result<wait_for_process_request> parse_wait_for_process(std::string_view body) {
  return parse_request<wait_for_process_request>(body, "ContainerWaitForProcess",
                                                 [](fields& f, wait_for_process_request& r) {
                                                   r.base = read_base(f);
                                                   r.timeout_ms = 0;
                                                   f.get("ProcessId", r.process_id);
                                                   f.get("TimeoutInMs", r.timeout_ms);
                                                 });
}

result<signal_process_request> parse_signal_process(std::string_view body) {
  return parse_request<signal_process_request>(
      body, "ContainerSignalProcess", [](fields& f, signal_process_request& r) {
        r.base = read_base(f);
        f.get("ProcessId", r.process_id);
        if (const json* options = f.object("Options", "prot.SignalProcessOptions")) {
          // Options without a Signal is signal 0, which the guest treats as a kill.
          int32_t signal = 0;
          f.nested(*options, "SignalProcessOptions").get("Signal", signal);
          r.signal = signal;
        }
      });
}

result<resize_console_request> parse_resize_console(std::string_view body) {
  return parse_request<resize_console_request>(body, "ContainerResizeConsole",
                                               [](fields& f, resize_console_request& r) {
                                                 r.base = read_base(f);
                                                 f.get("ProcessId", r.process_id);
                                                 f.get("Height", r.height);
                                                 f.get("Width", r.width);
                                               });
}

result<get_properties_request> parse_get_properties(std::string_view body) {
  return parse_request<get_properties_request>(body, "ContainerGetProperties",
                                               [](fields& f, get_properties_request& r) {
                                                 r.base = read_base(f);
                                                 f.get("Query", r.query);
                                                 // The guest skips an empty query and decodes any
                                                 // other.
                                                 if (!r.query.empty()) {
                                                   require_document(f, "Query", r.query);
                                                 }
                                               });
}

result<modify_settings_request> parse_modify_settings(std::string_view body) {
  return parse_request<modify_settings_request>(
      body, "ContainerModifySettings", [body](fields& f, modify_settings_request& r) {
        r.base = read_base(f);
        if (const json* request = f.object("Request", "prot.ModificationRequest")) {
          r.request = f.in_order(body, request);
        }
      });
}

response failure(uint32_t hr, std::string message, std::optional<std::string> activity_id) {
  response r;
  r.result = hr;
  r.activity_id = std::move(activity_id);
  error_record record;
  record.result = static_cast<int32_t>(hr);
  record.message = message;
  r.error_message = std::move(message);
  r.error_records.push_back(std::move(record));
  return r;
}

std::string encode(const response& r) {
  ojson o = ojson::object();
  o["Result"] = static_cast<int32_t>(r.result);
  // The guest's ActivityId is omitempty.
  if (r.activity_id && !r.activity_id->empty()) {
    o["ActivityId"] = *r.activity_id;
  }
  if (!r.error_message.empty()) {
    o["ErrorMessage"] = r.error_message;
  }
  if (!r.error_records.empty()) {
    ojson records = ojson::array();
    for (const auto& e : r.error_records) {
      records.push_back(record_json(e));
    }
    o["ErrorRecords"] = std::move(records);
  }
  if (r.version) {
    o["Version"] = *r.version;
  }
  if (r.capabilities) {
    o["Capabilities"] = embedded(*r.capabilities);
  }
  if (r.process_id) {
    o["ProcessId"] = *r.process_id;
  }
  if (r.exit_code) {
    o["ExitCode"] = *r.exit_code;
  }
  if (r.properties) {
    o["Properties"] = *r.properties;
  }
  if (r.guest_stacks) {
    o["GuestStacks"] = *r.guest_stacks;
  }
  if (r.selected_protocol_version) {
    o["SelectedProtocolVersion"] = *r.selected_protocol_version;
  }
  return gojson::go_dump(o);
}

result<response> parse_response(std::string_view body) {
  std::string err;
  response r;
  if (auto doc = parse_object(body, "gcs.responseBase", err)) {
    fields f(*doc, "responseBase", err);
    int32_t result = 0;
    f.get("Result", result);
    r.result = static_cast<uint32_t>(result);
    if (f.find("ActivityId") != nullptr) {
      r.activity_id.emplace();
      f.guid("ActivityId", *r.activity_id);
    }
    f.get("ErrorMessage", r.error_message);
    read_records(f, r.error_records);
    f.get("Version", r.version);
    if (const json* caps = f.object("Capabilities", "gcs.gcsCapabilities")) {
      r.capabilities = f.in_order(body, caps);
    }
    f.get("ProcessId", r.process_id);
    f.get("ExitCode", r.exit_code);
    if (f.find("Properties") != nullptr) {
      r.properties.emplace();
      f.document("Properties", *r.properties, "gcs.containerProperties");
    }
    if (f.find("GuestStacks") != nullptr) {
      r.guest_stacks.emplace();
      f.get("GuestStacks", *r.guest_stacks);
    }
    f.get("SelectedProtocolVersion", r.selected_protocol_version);
  }
  if (!err.empty()) {
    return error(errc::bad_request, unmarshal_failed + err);
  }
  return r;
}

std::string linux_capabilities() {
  return R"({"SupportedSchemaVersions":[{"Major":2,"Minor":1}],"RuntimeOsType":"Linux",)"
         R"("GuestDefinedCapabilities":{"NamespaceAddRequestSupported":true,)"
         R"("SignalProcessSupported":true,"DumpStacksSupported":true,)"
         R"("DeleteContainerStateSupported":true}})";
}

result<guest_capabilities> parse_capabilities(std::string_view capabilities_json) {
  std::string err;
  guest_capabilities c;
  if (auto doc = parse_object(capabilities_json, "gcs.gcsCapabilities", err)) {
    fields f(*doc, "gcsCapabilities", err);
    f.get("SendHostCreateMessage", c.send_host_create_message);
    f.get("SendHostStartMessage", c.send_host_start_message);
    f.get("RuntimeOsType", c.runtime_os_type);
    if (const json* defined = f.object("GuestDefinedCapabilities", "uvm.guestCapabilities")) {
      fields g = f.nested(*defined, "guestCapabilities");
      g.get("NamespaceAddRequestSupported", c.namespace_add_request_supported);
      g.get("SignalProcessSupported", c.signal_process_supported);
      g.get("DumpStacksSupported", c.dump_stacks_supported);
      g.get("DeleteContainerStateSupported", c.delete_container_state_supported);
    }
  }
  if (!err.empty()) {
    return error(errc::bad_request, std::move(err));
  }
  return c;
}

std::string encode(const container_notification& n) {
  ojson o = ojson::object();
  o["ContainerId"] = n.container_id;
  o["ActivityId"] = n.activity_id;
  o["Type"] = n.type;
  o["Operation"] = n.operation;
  o["Result"] = n.result;
  if (!n.result_info.empty()) {
    o["ResultInfo"] = n.result_info;
  }
  return gojson::go_dump(o);
}

result<container_notification> parse_notification(std::string_view body) {
  std::string err;
  container_notification n{"", zero_guid, "", "", 0, ""};
  if (auto doc = parse_object(body, "gcs.containerNotification", err)) {
    fields f(*doc, "containerNotification", err);
    f.get("ContainerId", n.container_id);
    f.guid("ActivityId", n.activity_id);
    f.get("Type", n.type);
    f.get("Operation", n.operation);
    f.get("Result", n.result);
    f.document("ResultInfo", n.result_info, "gcs.anyInString");
  }
  if (!err.empty()) {
    return error(errc::bad_request, unmarshal_failed + err);
  }
  return n;
}

} // namespace uvm::bridge
