// The bridge's RPC bodies: the v0.8.8 vectors byte for byte, round trips of
// every request and response kind, and the decode failures that kill the
// host's bridge or make the guest answer "invalid JSON".
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "bridge/rpc_messages.hpp"
#include "gojson/go_json.hpp"

using namespace uvm;
using namespace uvm::bridge;

namespace {

const std::string null_container = zero_guid;
const std::string activity = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
// JSON text with quotes, a newline, tabs and HTML characters inside and
// between its tokens.
const std::string tricky_doc = "{\n\t\"Args\": [\"sh\", \"-c\", \"echo \\\"<a>&<b>\\\"\\n\"],\n"
                               "\t\"Env\": {\"K\": \"v\\u0026w\"}\n}";

std::string vector_file(const std::string& name) {
  std::ifstream in(std::string(UVM_TEST_VECTORS) + "/" + name, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), {}};
}

request_base base(std::string container_id = "ctr1") {
  return {std::move(container_id), activity};
}

void check_base(const request_base& b, const std::string& container_id = "ctr1") {
  CHECK(b.container_id == container_id);
  CHECK(b.activity_id == activity);
}

template <class T>
T must(result<T> r) {
  INFO(r.err().text);
  REQUIRE(r);
  return std::move(*r);
}

template <class T>
std::string failure_text(const result<T>& r) {
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::bad_request);
  return r.err().text;
}

} // namespace

TEST_CASE("bridge rpc: the negotiate request is the vector", "[bridge][rpc]") {
  auto body = encode(negotiate_request{});
  CHECK(body == vector_file("negotiate-protocol-request.body.json"));

  auto r = must(parse_negotiate(body));
  CHECK(r.base.container_id.empty());
  CHECK(r.base.activity_id == zero_guid);
  CHECK(r.minimum_version == 4);
  CHECK(r.maximum_version == 4);
}

TEST_CASE("bridge rpc: the Linux GCS's negotiate answer is the vector", "[bridge][rpc]") {
  response answer;
  answer.activity_id = zero_guid;
  answer.version = protocol_version;
  answer.capabilities = linux_capabilities();
  auto body = encode(answer);
  CHECK(body == vector_file("negotiate-protocol-response.guest-body.json"));

  auto r = must(parse_response(body));
  CHECK(r.ok());
  CHECK(r.activity_id == zero_guid);
  CHECK(r.version == 4u);
  CHECK(r.capabilities == linux_capabilities());
  CHECK_FALSE(r.process_id);
  CHECK(encode(r) == body);

  auto caps = must(parse_capabilities(*r.capabilities));
  CHECK(caps.runtime_os_type == "Linux");
  CHECK(caps.namespace_add_request_supported);
  CHECK(caps.signal_process_supported);
  CHECK(caps.dump_stacks_supported);
  CHECK(caps.delete_container_state_supported);
  CHECK_FALSE(caps.send_host_create_message);
  CHECK_FALSE(caps.send_host_start_message);
}

TEST_CASE("bridge rpc: capabilities of a Windows-like guest", "[bridge][rpc]") {
  auto caps = must(parse_capabilities(
      R"({"sendhostcreatemessage":true,"SendHostStartMessage":true,"RuntimeOsType":"Windows",)"
      R"("HvSocketConfigOnStartup":true,"GuestDefinedCapabilities":null})"));
  CHECK(caps.send_host_create_message);
  CHECK(caps.send_host_start_message);
  CHECK(caps.runtime_os_type == "Windows");
  CHECK_FALSE(caps.dump_stacks_supported);

  failure_text(parse_capabilities("{\"RuntimeOsType\":1}"));
  failure_text(parse_capabilities("{\"GuestDefinedCapabilities\":{\"DumpStacksSupported\":1}}"));
  failure_text(parse_capabilities(""));
}

TEST_CASE("bridge rpc: the exit notification is the vector", "[bridge][rpc]") {
  container_notification exit; // every member but the id at its default
  exit.container_id = "ctr1";
  auto body = encode(exit);
  CHECK(body == vector_file("container-exit-notification.guest-body.json"));

  auto n = must(parse_notification(body));
  CHECK(n.container_id == "ctr1");
  CHECK(n.activity_id == zero_guid);
  CHECK(n.type == "UnexpectedExit");
  CHECK(n.operation == "None");
  CHECK(n.result == 0);
  CHECK(n.result_info.empty());
}

TEST_CASE("bridge rpc: ModifySettings bodies are the vectors", "[bridge][rpc]") {
  for (const std::string name : {"plan9-add-lcow", "scsi-add-lcow", "vpmem-add-lcow"}) {
    INFO(name);
    auto modify = nlohmann::ordered_json::parse(vector_file(name + ".modify.json"));
    modify_settings_request r{{null_container, zero_guid}, gojson::go_dump(modify["GuestRequest"])};
    auto body = encode(r);
    CHECK(body == vector_file(name + ".bridge-body.json"));

    auto back = must(parse_modify_settings(body));
    CHECK(back.base.container_id == null_container);
    CHECK(back.base.activity_id == zero_guid);
    CHECK(back.request == r.request);
  }
}

TEST_CASE("bridge rpc: ModifySettings keeps the request's member order", "[bridge][rpc]") {
  modify_settings_request r{base(), R"({"Z":1,"a":{"y":"<&>","b":[true,null]}})"};
  auto body = encode(r);
  CHECK(body == "{\"ContainerId\":\"ctr1\",\"ActivityId\":\"" + activity +
                    "\",\"Request\":{\"Z\":1,\"a\":{\"y\":\"\\u003c\\u0026\\u003e\",\"b\":[true,"
                    "null]}}}\n");
  // Passed on in Go's form: same members, same order, HTML characters escaped.
  CHECK(must(parse_modify_settings(body)).request ==
        R"({"Z":1,"a":{"y":"\u003c\u0026\u003e","b":[true,null]}})");
  CHECK(must(parse_modify_settings(R"({"ContainerId":"c"})")).request.empty());
}

TEST_CASE("bridge rpc: base-only requests", "[bridge][rpc]") {
  auto body = encode(base(null_container));
  CHECK(body ==
        "{\"ContainerId\":\"" + null_container + "\",\"ActivityId\":\"" + activity + "\"}\n");
  check_base(must(parse_base(body)), null_container);

  // Absent members are Go's zero values, what the guest acts on.
  auto empty = must(parse_base("{}"));
  CHECK(empty.container_id.empty());
  CHECK(empty.activity_id.empty());
}

TEST_CASE("bridge rpc: Create carries its config as a string", "[bridge][rpc]") {
  create_request r{base(), tricky_doc};
  auto body = encode(r);
  CHECK(body.back() == '\n');
  CHECK(body.rfind("{\"ContainerId\":\"ctr1\",\"ActivityId\":\"" + activity +
                       "\",\"ContainerConfig\":\"{\\n\\t\\\"Args\\\"",
                   0) == 0);
  CHECK(body.find("\\u003c") != std::string::npos);
  CHECK(body.find('<') == std::string::npos);

  auto back = must(parse_create(body));
  check_base(back.base);
  CHECK(back.container_config == tricky_doc);

  CHECK(encode(create_request{base(), R"({"SystemType":"Container"})"}) ==
        "{\"ContainerId\":\"ctr1\",\"ActivityId\":\"" + activity +
            "\",\"ContainerConfig\":\"{\\\"SystemType\\\":\\\"Container\\\"}\"}\n");
}

TEST_CASE("bridge rpc: ExecuteProcess always has VsockStdioRelaySettings", "[bridge][rpc]") {
  execute_process_request none{base(), R"({"CommandLine":"true"})", {}};
  CHECK(encode(none) == "{\"ContainerId\":\"ctr1\",\"ActivityId\":\"" + activity +
                            "\",\"Settings\":{\"ProcessParameters\":\"{\\\"CommandLine\\\":"
                            "\\\"true\\\"}\",\"VsockStdioRelaySettings\":{}}}\n");

  execute_process_request out{base(), tricky_doc, {0, 1073741826, 0}};
  auto body = encode(out);
  CHECK(body.find("\"VsockStdioRelaySettings\":{\"StdOut\":1073741826}}}\n") != std::string::npos);

  execute_process_request all{base(), tricky_doc, {1073741825, 1073741826, 1073741827}};
  body = encode(all);
  CHECK(body.find("\"VsockStdioRelaySettings\":{\"StdIn\":1073741825,\"StdOut\":1073741826,"
                  "\"StdErr\":1073741827}}}\n") != std::string::npos);
  auto back = must(parse_execute_process(body));
  check_base(back.base);
  CHECK(back.process_parameters == tricky_doc);
  CHECK(back.ports.std_in == 1073741825);
  CHECK(back.ports.std_out == 1073741826);
  CHECK(back.ports.std_err == 1073741827);

  auto partial = must(parse_execute_process(encode(out)));
  CHECK(partial.ports.std_in == 0);
  CHECK(partial.ports.std_out == 1073741826);
  CHECK(partial.ports.std_err == 0);
}

TEST_CASE("bridge rpc: WaitForProcess, ResizeConsole, GetProperties", "[bridge][rpc]") {
  wait_for_process_request wait{base(), 42};
  auto body = encode(wait);
  CHECK(body == "{\"ContainerId\":\"ctr1\",\"ActivityId\":\"" + activity +
                    "\",\"ProcessId\":42,\"TimeoutInMs\":4294967295}\n");
  auto w = must(parse_wait_for_process(body));
  check_base(w.base);
  CHECK(w.process_id == 42);
  CHECK(w.timeout_ms == infinite_timeout_ms);
  CHECK(must(parse_wait_for_process(R"({"ProcessId":7})")).timeout_ms == 0);

  resize_console_request resize{base(), 9, 50, 65535};
  body = encode(resize);
  CHECK(body == "{\"ContainerId\":\"ctr1\",\"ActivityId\":\"" + activity +
                    "\",\"ProcessId\":9,\"Height\":50,\"Width\":65535}\n");
  auto z = must(parse_resize_console(body));
  check_base(z.base);
  CHECK(z.process_id == 9);
  CHECK(z.height == 50);
  CHECK(z.width == 65535);

  get_properties_request props{base(), R"({"PropertyTypes":["ProcessList"]})"};
  body = encode(props);
  CHECK(body == "{\"ContainerId\":\"ctr1\",\"ActivityId\":\"" + activity +
                    "\",\"Query\":\"{\\\"PropertyTypes\\\":[\\\"ProcessList\\\"]}\"}\n");
  CHECK(must(parse_get_properties(body)).query == props.query);
  props.query = tricky_doc;
  CHECK(must(parse_get_properties(encode(props))).query == tricky_doc);
  // The guest skips an empty query.
  CHECK(must(parse_get_properties(R"({"Query":""})")).query.empty());
}

TEST_CASE("bridge rpc: SignalProcess Options only for a signal", "[bridge][rpc]") {
  signal_process_request kill{base(), 12, std::nullopt};
  auto body = encode(kill);
  CHECK(body ==
        "{\"ContainerId\":\"ctr1\",\"ActivityId\":\"" + activity + "\",\"ProcessId\":12}\n");
  auto k = must(parse_signal_process(body));
  check_base(k.base);
  CHECK(k.process_id == 12);
  CHECK_FALSE(k.signal);

  signal_process_request term{base(), 12, 15};
  body = encode(term);
  CHECK(body == "{\"ContainerId\":\"ctr1\",\"ActivityId\":\"" + activity +
                    "\",\"ProcessId\":12,\"Options\":{\"Signal\":15}}\n");
  CHECK(must(parse_signal_process(body)).signal == 15);

  CHECK(must(parse_signal_process(R"({"ProcessId":1,"Options":{}})")).signal == 0);
  CHECK_FALSE(must(parse_signal_process(R"({"ProcessId":1,"Options":null})")).signal);
}

TEST_CASE("bridge rpc: responses of every RPC round-trip", "[bridge][rpc]") {
  auto round_trip = [](const response& r, const std::string& expected) {
    auto body = encode(r);
    CHECK(body == expected);
    auto back = must(parse_response(body));
    CHECK(encode(back) == body);
    return back;
  };
  const std::string head = "{\"Result\":0,\"ActivityId\":\"" + activity + "\"";

  response create;
  create.activity_id = activity;
  create.selected_protocol_version = 0;
  CHECK(round_trip(create, head + ",\"SelectedProtocolVersion\":0}").selected_protocol_version ==
        0u);

  response exec;
  exec.activity_id = activity;
  exec.process_id = 4321;
  CHECK(round_trip(exec, head + ",\"ProcessId\":4321}").process_id == 4321u);

  response wait;
  wait.activity_id = activity;
  wait.exit_code = 137;
  CHECK(round_trip(wait, head + ",\"ExitCode\":137}").exit_code == 137u);

  response props;
  props.activity_id = activity;
  props.properties = tricky_doc;
  auto p = round_trip(props, head + ",\"Properties\":" + gojson::go_dump(tricky_doc) + "}");
  CHECK(p.properties == tricky_doc);

  response stacks;
  stacks.activity_id = activity;
  stacks.guest_stacks = "goroutine 1 [running]:\n\tmain.main() <&>\n";
  CHECK(round_trip(stacks, head + ",\"GuestStacks\":\"goroutine 1 [running]:\\n\\tmain.main() "
                                  "\\u003c\\u0026\\u003e\\n\"}")
            .guest_stacks == stacks.guest_stacks);

  response plain;
  plain.activity_id = activity;
  auto b = round_trip(plain, head + "}");
  CHECK_FALSE(b.version);
  CHECK_FALSE(b.capabilities);
  CHECK_FALSE(b.process_id);
  CHECK_FALSE(b.exit_code);
  CHECK_FALSE(b.properties);
  CHECK_FALSE(b.guest_stacks);
  CHECK_FALSE(b.selected_protocol_version);
  CHECK(b.error_message.empty());
  CHECK(b.error_records.empty());
}

TEST_CASE("bridge rpc: error responses carry signed HRESULTs and records", "[bridge][rpc]") {
  auto r = failure(hresult::system_not_found, "container \"ctr9\" not found", activity);
  auto body = encode(r);
  CHECK(body == "{\"Result\":-1070137074,\"ActivityId\":\"" + activity +
                    "\",\"ErrorMessage\":\"container \\\"ctr9\\\" not found\",\"ErrorRecords\":[{"
                    "\"Result\":-1070137074,\"Message\":\"container \\\"ctr9\\\" not found\","
                    "\"ModuleName\":\"gcs\",\"FileName\":\"\",\"Line\":4294967295}]}");

  auto back = must(parse_response(body));
  CHECK_FALSE(back.ok());
  CHECK(back.result == hresult::system_not_found);
  CHECK(back.error_message == "container \"ctr9\" not found");
  REQUIRE(back.error_records.size() == 1);
  CHECK(back.error_records[0].result == -1070137074);
  CHECK(back.error_records[0].module_name == "gcs");
  CHECK(back.error_records[0].line == 0xFFFFFFFF);
  CHECK(back.error_records[0].stack_trace.empty());
  CHECK(encode(back) == body);

  error_record full{-2147467259, "boom", "main.go:1", "gcs", "main.go", 12, "main.main"};
  response e;
  e.result = hresult::fail;
  e.activity_id = activity;
  e.error_records = {full};
  body = encode(e);
  CHECK(body == "{\"Result\":-2147467259,\"ActivityId\":\"" + activity +
                    "\",\"ErrorRecords\":[{\"Result\":-2147467259,\"Message\":\"boom\","
                    "\"StackTrace\":\"main.go:1\",\"ModuleName\":\"gcs\",\"FileName\":\"main.go\","
                    "\"Line\":12,\"FunctionName\":\"main.main\"}]}");
  back = must(parse_response(body));
  CHECK(back.result == hresult::fail);
  CHECK(back.error_message.empty());
  REQUIRE(back.error_records.size() == 1);
  CHECK(back.error_records[0].function_name == "main.main");
  CHECK(back.error_records[0].stack_trace == "main.go:1");
  CHECK(encode(back) == body);

  for (uint32_t hr : {hresult::not_impl, hresult::not_found, hresult::invalid_arg,
                      hresult::wait_timeout, hresult::already_stopped}) {
    CHECK(must(parse_response(encode(failure(hr, "x", activity)))).result == hr);
  }
}

TEST_CASE("bridge rpc: an answer to a body that was not JSON has no ActivityId", "[bridge][rpc]") {
  auto body = encode(failure(hresult::invalid_json, "invalid character", std::nullopt));
  CHECK(body.rfind("{\"Result\":-1070137075,\"ErrorMessage\":\"invalid character\",", 0) == 0);
  CHECK(body.find("ActivityId") == std::string::npos);
  auto back = must(parse_response(body));
  CHECK_FALSE(back.activity_id);
  CHECK(back.result == hresult::invalid_json);
}

TEST_CASE("bridge rpc: undecodable responses kill the bridge", "[bridge][rpc]") {
  auto text = [](std::string_view body) { return failure_text(parse_response(body)); };
  const std::string prefix = "bridge response unmarshal failed: ";

  CHECK(text("not json") == prefix + "invalid character 'o' in literal null (expecting 'u')");
  CHECK(text("") == prefix + "unexpected end of JSON input");
  CHECK(text("[]").rfind(prefix + "json: cannot unmarshal array", 0) == 0);
  CHECK(text("{\"Result\":0,\"ActivityId\":\"nope\"}") == prefix + "invalid GUID \"nope\"");
  CHECK(text("{\"Result\":0,\"ActivityId\":\"\"}") == prefix + "invalid GUID \"\"");
  CHECK(text("{\"ActivityId\":\"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1fg\"}")
            .rfind(prefix + "invalid GUID", 0) == 0);
  CHECK(text("{\"ActivityId\":7}").rfind(prefix + "json: cannot unmarshal number", 0) == 0);
  CHECK(text("{\"Result\":\"0\"}") ==
        prefix + "json: cannot unmarshal string into Go struct field responseBase.Result of "
                 "type int32");
  CHECK(text("{\"Result\":1.5}").rfind(prefix + "json: cannot unmarshal number 1.5", 0) == 0);
  // Go's int32 holds no unsigned HRESULT.
  CHECK(text("{\"Result\":3224830222}").rfind(prefix, 0) == 0);
  CHECK(text("{\"Result\":0,\"ErrorRecords\":{}}").rfind(prefix, 0) == 0);
  CHECK(text("{\"Result\":0,\"ErrorRecords\":[{\"Line\":-1}]}").rfind(prefix, 0) == 0);
  CHECK(text("{\"Result\":0,\"Properties\":\"{\"}") == prefix + "unexpected end of JSON input");
  CHECK(text("{\"Result\":0,\"Capabilities\":\"{}\"}").rfind(prefix, 0) == 0);

  // Upper-case GUIDs, nulls and unknown members are fine.
  auto ok = must(parse_response(
      "{\"Result\":0,\"ActivityId\":\"0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0\",\"ErrorMessage\":"
      "null,\"Extra\":[1]}"));
  CHECK(ok.activity_id == "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0");
}

TEST_CASE("bridge rpc: notifications", "[bridge][rpc]") {
  container_notification n{"ctr2", activity,    "ForcedExit",
                           "None", -1070137074, R"({"Error":"<killed> & \"gone\""})"};
  auto body = encode(n);
  CHECK(body == "{\"ContainerId\":\"ctr2\",\"ActivityId\":\"" + activity +
                    "\",\"Type\":\"ForcedExit\",\"Operation\":\"None\",\"Result\":-1070137074,"
                    "\"ResultInfo\":\"{\\\"Error\\\":\\\"\\u003ckilled\\u003e \\u0026 "
                    "\\\\\\\"gone\\\\\\\"\\\"}\"}");
  auto back = must(parse_notification(body));
  CHECK(back.container_id == "ctr2");
  CHECK(back.activity_id == activity);
  CHECK(back.type == "ForcedExit");
  CHECK(back.result == -1070137074);
  CHECK(back.result_info == n.result_info);
  CHECK(encode(back) == body);

  auto text = [](std::string_view b) { return failure_text(parse_notification(b)); };
  const std::string prefix = "bridge response unmarshal failed: ";
  CHECK(text(R"({"ContainerId":"c","ResultInfo":""})") == prefix + "unexpected end of JSON input");
  CHECK(text(R"({"ContainerId":"c","ResultInfo":"nope"})") ==
        prefix + "invalid character 'o' in literal null (expecting 'u')");
  CHECK(text(R"({"ContainerId":"c","ResultInfo":{}})").rfind(prefix, 0) == 0);
  CHECK(text(R"({"ContainerId":"c","ActivityId":"x"})") == prefix + "invalid GUID \"x\"");
  CHECK(text("{").rfind(prefix, 0) == 0);
  CHECK(text(R"({"Result":"0"})").rfind(prefix, 0) == 0);
}

TEST_CASE("bridge rpc: member names match case-insensitively", "[bridge][rpc]") {
  auto r = must(parse_response("{\"result\":-2147467259,\"ACTIVITYID\":\"" + activity +
                               "\",\"errormessage\":\"m\",\"errorRecords\":[{\"MESSAGE\":\"m\","
                               "\"line\":3}],\"processid\":5,\"exitCode\":6,\"properties\":\"{}\","
                               "\"gueststacks\":\"s\",\"version\":4,\"capabilities\":{}}"));
  CHECK(r.result == hresult::fail);
  CHECK(r.activity_id == activity);
  CHECK(r.error_message == "m");
  REQUIRE(r.error_records.size() == 1);
  CHECK(r.error_records[0].message == "m");
  CHECK(r.error_records[0].line == 3);
  // Absent record members are Go's zero values.
  CHECK(r.error_records[0].module_name.empty());
  CHECK(r.process_id == 5u);
  CHECK(r.exit_code == 6u);
  CHECK(r.properties == "{}");
  CHECK(r.guest_stacks == "s");
  CHECK(r.version == 4u);
  CHECK(r.capabilities == "{}");

  auto n = must(parse_notification(R"({"containerid":"c","TYPE":"GracefulExit","result":1})"));
  CHECK(n.container_id == "c");
  CHECK(n.activity_id == zero_guid);
  CHECK(n.type == "GracefulExit");
  CHECK(n.operation.empty());
  CHECK(n.result == 1);

  auto w = must(parse_wait_for_process(
      R"({"containerid":"c","activityid":"a","processid":5,"TIMEOUTINMS":100,"ocsc":{}})"));
  CHECK(w.base.container_id == "c");
  CHECK(w.base.activity_id == "a");
  CHECK(w.process_id == 5);
  CHECK(w.timeout_ms == 100);

  auto e = must(parse_execute_process(
      R"({"settings":{"processparameters":"{}","vsockstdiorelaysettings":{"stdout":3}}})"));
  CHECK(e.process_parameters == "{}");
  CHECK(e.ports.std_out == 3);

  auto s = must(parse_signal_process(R"({"processid":2,"options":{"signal":9}})"));
  CHECK(s.signal == 9);
  CHECK(must(parse_negotiate(R"({"minimumversion":1,"MAXIMUMVERSION":3})")).maximum_version == 3);
  CHECK(must(parse_create(R"({"containerconfig":"{}"})")).container_config == "{}");
  CHECK(must(parse_resize_console(R"({"height":1,"WIDTH":2})")).width == 2);
  CHECK(must(parse_modify_settings(R"({"request":{"ResourceType":"x"}})")).request ==
        R"({"ResourceType":"x"})");
}

TEST_CASE("bridge rpc: the guest rejects malformed requests", "[bridge][rpc]") {
  for (std::string_view body : {"", "not json", "[]", "null", "\"x\"", "7", "{"}) {
    INFO(body);
    failure_text(parse_base(body));
    failure_text(parse_negotiate(body));
    failure_text(parse_create(body));
    failure_text(parse_execute_process(body));
    failure_text(parse_wait_for_process(body));
    failure_text(parse_signal_process(body));
    failure_text(parse_resize_console(body));
    failure_text(parse_get_properties(body));
    failure_text(parse_modify_settings(body));
  }

  CHECK(failure_text(parse_base(R"({"ContainerId":5})")) ==
        "json: cannot unmarshal number into Go struct field MessageBase.ContainerId of type "
        "string");
  failure_text(parse_base(R"({"ActivityId":[]})"));
  failure_text(parse_negotiate(R"({"MinimumVersion":"4"})"));
  failure_text(parse_negotiate(R"({"MaximumVersion":-1})"));
  failure_text(parse_create(R"({"ContainerConfig":{"SystemType":"Container"}})"));
  CHECK(failure_text(parse_create(R"({"ContainerConfig":"{\"a\":"})")) ==
        "invalid ContainerConfig: unexpected end of JSON input");
  failure_text(parse_create(R"({"ContainerId":"c"})"));
  failure_text(parse_execute_process(R"({"Settings":"x"})"));
  failure_text(parse_execute_process(R"({"Settings":{"ProcessParameters":5}})"));
  failure_text(parse_execute_process(R"({"Settings":{"ProcessParameters":"nope"}})"));
  failure_text(parse_execute_process(
      R"({"Settings":{"ProcessParameters":"{}","VsockStdioRelaySettings":{"StdIn":"p"}}})"));
  failure_text(parse_execute_process(
      R"({"Settings":{"ProcessParameters":"{}","VsockStdioRelaySettings":[]}})"));
  failure_text(parse_wait_for_process(R"({"ProcessId":"1"})"));
  failure_text(parse_wait_for_process(R"({"ProcessId":1.5})"));
  failure_text(parse_wait_for_process(R"({"TimeoutInMs":4294967296})"));
  failure_text(parse_signal_process(R"({"Options":"CtrlC"})"));
  failure_text(parse_signal_process(R"({"Options":{"Signal":"CtrlC"}})"));
  failure_text(parse_signal_process(R"({"Options":{"Signal":2147483648}})"));
  failure_text(parse_resize_console(R"({"Height":65536})"));
  failure_text(parse_resize_console(R"({"Width":true})"));
  failure_text(parse_get_properties(R"({"Query":{}})"));
  failure_text(parse_get_properties(R"({"Query":"{"})"));
  failure_text(parse_modify_settings(R"({"Request":"{}"})"));
  failure_text(parse_modify_settings(R"({"Request":[]})"));
}
