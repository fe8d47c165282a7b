// The one call mechanism (engine/call.hpp, engine/calls.hpp): every call
// of the embedding API in its asynchronous form, a caller's deadline on
// any call, the resource handles' Release() and a connected engine.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <caf/io/middleman.hpp>

#include "engine/calls.hpp"
#include "engine/engine.hpp"
#include "engine/remote_node.hpp"
#include "tests/actors/bus_collector.hpp"
#include "tests/actors/fixtures.hpp"

using namespace std::chrono_literals;
using uvm::call_outcome_t;
using uvm::test::eventually;
using uvm::test::host_dir;
namespace calls = uvm::calls;

namespace {

uvm::engine_config test_config() {
  uvm::engine_config cfg;
  cfg.host = uvm::test::test_host();
  cfg.bridge_rpc_timeout = 15s;
  cfg.cleanup_margin = 5s;
  cfg.call_timeout = 20s;
  return cfg;
}

// Runs `c` on `h` through its asynchronous form and waits for the answer.
template <class H, class C>
call_outcome_t<C> async(H& h, C c, uvm::call_deadline due = {}) {
  auto answer = std::make_shared<std::promise<call_outcome_t<C>>>();
  auto got = answer->get_future();
  auto done = [answer](call_outcome_t<C> o) { answer->set_value(std::move(o)); };
  // Resource handles have their release() only: the mechanism itself.
  if constexpr (std::is_base_of_v<uvm::resource::vm_bound, H> ||
                std::is_same_v<H, uvm::resource::network_endpoints>) {
    uvm::call_async(h, std::move(c), done, due);
  } else {
    h.call(std::move(c), done, due);
  }
  REQUIRE(got.wait_for(30s) == std::future_status::ready);
  return got.get();
}

uvm::error error_of(const uvm::error& e) {
  return e;
}
uvm::error error_of(bool) {
  return {};
}
template <class T>
uvm::error error_of(const uvm::result<T>& r) {
  return r ? uvm::error{} : r.err();
}

std::string make_file(const host_dir& host, const std::string& rel) {
  auto path = host.path(rel);
  std::ofstream(path) << "layer";
  return path;
}

std::string make_dir(const host_dir& host, const std::string& rel) {
  auto path = host.path(rel);
  std::filesystem::create_directories(path);
  return path;
}

uvm::hcs::virtual_pci_device gpu() {
  uvm::hcs::virtual_pci_device d;
  d.functions.push_back({R"(PCIP\VEN_10DE&DEV_1EB8&SUBSYS_12A210DE&REV_A1\6&1)", 0});
  return d;
}

uvm::hcs::network_endpoint endpoint(const std::string& id, const std::string& ns) {
  uvm::hcs::network_endpoint e;
  e.id = id;
  e.mac_address = "00-15-5D-00-00-01";
  e.namespace_id = ns;
  e.ip_address = "10.0.0.2";
  e.prefix_length = 24;
  return e;
}

std::string container_config(const std::vector<std::string>& args) {
  nlohmann::json cfg = {
      {"SchemaVersion", {{"Major", 2}, {"Minor", 1}}},
      {"OciSpecification",
       {{"process", {{"args", args}, {"env", {"PATH=/usr/bin:/bin"}}, {"cwd", "/"}}}}}};
  return cfg.dump();
}

std::string oci_exec(const std::string& process) {
  uvm::process_parameters p;
  p.oci_process = process;
  return p.to_json();
}

nlohmann::json oracle_of(uvm::engine& eng, const std::string& id) {
  return eng.sim().oracle()[id];
}

// One row of the table: a call run asynchronously and the code it must give.
struct row {
  std::string name;
  uvm::errc expect;
  std::function<uvm::error()> run;
};

template <class H, class C>
row make_row(H& h, C c, uvm::errc expect = uvm::errc::ok) {
  return {C::name, expect, [&h, c] { return error_of(async(h, c)); }};
}

void run_table(const std::vector<row>& table) {
  for (const auto& r : table) {
    INFO(r.name);
    auto e = r.run();
    INFO(e.text);
    CHECK(e.code == r.expect);
  }
}

} // namespace

TEST_CASE("every call of the embedding API has an asynchronous form through one mechanism",
          "[engine][async][calls]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm_r = async(eng, calls::create_lcow{host.lcow("calls-lcow"), {}, {}});
  REQUIRE(vm_r);
  auto vm = *vm_r;
  auto wcow_r = async(eng, calls::create_wcow{host.wcow("calls-wcow"), {}, {}});
  REQUIRE(wcow_r);
  auto wcow = *wcow_r;
  auto layer = make_file(host, "layer.vhd");
  auto share = make_dir(host, "share");

  // Results later rows use.
  std::optional<uvm::result<uvm::resource::plan9_share>> plan9;
  std::optional<uvm::result<uvm::resource::vpci_device>> device;
  std::optional<uvm::result<uvm::guest_process>> uvm_process;
  std::optional<uvm::result<uvm::guest_container>> container;
  std::optional<uvm::result<uvm::guest_process>> init;
  std::optional<uvm::result<uvm::guest_process>> sleeper;
  std::optional<uvm::result<uvm::guest_process>> console;
  const std::vector<uvm::hcs::network_endpoint> eps{endpoint("ep-1", "ns1")};
  uvm::process_parameters echo;
  echo.command_args = {"sh", "-c", "echo out"};
  echo.create_stdout = true;
  uvm::process_parameters init_params;
  uvm::cpu_limits weight_300;
  weight_300.weight = 300;

  std::vector<row> table{
      make_row(eng, calls::find{"calls-lcow"}),
      make_row(eng, calls::find{"nobody"}, uvm::errc::not_found),
      make_row(eng, calls::list{}),
      make_row(eng, calls::exits{}),
      make_row(eng, calls::setup_network_endpoints{"hns-ns", {"hns-ep"}}),
      make_row(vm, calls::start{}),
      make_row(wcow, calls::start{}),
      make_row(vm, calls::info{}),
      make_row(vm, calls::update_memory{2048ULL << 20}),
      make_row(vm, calls::update_cpu_limits{weight_300}),
      make_row(vm, calls::stats{}),
      make_row(vm, calls::container_counter{}),
      make_row(vm, calls::uvm_mount_counter{}),
      make_row(vm, calls::device_view{}),
      make_row(vm, calls::devices{}),
      make_row(vm, calls::exit_error{}, uvm::errc::not_exited),
      make_row(vm, calls::add_scsi{{"/d/a.vhdx", "/run/mounts/a", false, uvm::vm_access_type::noop,
                                    false, ""}}),
      make_row(vm, calls::get_scsi_uvm_path{"/d/a.vhdx"}),
      make_row(vm, calls::remove_scsi{"/d/a.vhdx"}),
      make_row(vm, calls::add_vpmem{layer}),
      make_row(vm, calls::remove_vpmem{layer}),
      {"add_plan9", uvm::errc::ok,
       [&] {
         plan9 = async(vm, calls::add_plan9{{share, "/run/mounts/p", true, false, {}, ""}});
         return error_of(*plan9);
       }},
      {"remove_plan9", uvm::errc::ok,
       [&] { return async(vm, calls::remove_plan9{(*plan9)->name}); }},
      make_row(vm, calls::add_net_ns{"ns1"}),
      make_row(vm, calls::add_net_ns{"ns1"}, uvm::errc::netns_already_attached),
      make_row(vm, calls::add_endpoints_to_ns{"ns1", eps}),
      make_row(vm, calls::remove_endpoints_from_ns{"ns1", eps}),
      make_row(vm, calls::remove_net_ns{"ns1"}),
      {"assign_device", uvm::errc::ok,
       [&] {
         device = async(vm, calls::assign_device{gpu()});
         return error_of(*device);
       }},
      {"remove_device", uvm::errc::ok,
       [&] { return async(vm, calls::remove_device{(*device)->id}); }},
      make_row(vm, calls::combine_layers{{true, {"/run/layers/p0"}, "", {}, "/run/c/rootfs", ""}}),
      make_row(vm, calls::remove_combined_layers{"/run/c/rootfs"}),
      make_row(vm, calls::dump_stacks{}),
      make_row(vm, calls::capabilities{}),
      make_row(vm, calls::signal_process_supported{}),
      make_row(vm, calls::delete_container_state_supported{}),
      {"create_process", uvm::errc::ok,
       [&] {
         uvm_process = async(vm, calls::create_process{echo.to_json()});
         return error_of(*uvm_process);
       }},
      {"process_close", uvm::errc::ok,
       [&] { return async(**uvm_process, calls::process_close{}); }},
      {"process_wait", uvm::errc::ok,
       [&] { return error_of(async(**uvm_process, calls::process_wait{})); }},
      {"create_container", uvm::errc::ok,
       [&] {
         container = async(vm, calls::create_container{"c1", container_config({"sleep", "30"})});
         return error_of(*container);
       }},
      {"container_start", uvm::errc::ok,
       [&] { return async(**container, calls::container_start{}); }},
      {"container_create_process", uvm::errc::ok,
       [&] {
         // Without OciProcess: the container's init process.
         init = async(**container, calls::container_create_process{init_params.to_json()});
         return error_of(*init);
       }},
      {"container_create_process", uvm::errc::ok,
       [&] {
         sleeper = async(**container, calls::container_create_process{
                                          oci_exec(R"({"args":["sleep","30"],"cwd":"/"})")});
         return error_of(*sleeper);
       }},
      {"process_signal", uvm::errc::ok,
       [&] { return error_of(async(**sleeper, calls::process_signal{15})); }},
      {"process_wait", uvm::errc::ok,
       [&] { return error_of(async(**sleeper, calls::process_wait{})); }},
      {"process_kill", uvm::errc::ok,
       [&] { return error_of(async(**sleeper, calls::process_kill{})); }},
      {"console process", uvm::errc::ok,
       [&] {
         console = async(**container,
                         calls::container_create_process{
                             oci_exec(R"({"args":["sleep","0.2"],"terminal":true,"cwd":"/"})")});
         return error_of(*console);
       }},
      {"process_resize_console", uvm::errc::ok,
       [&] {
         return async(**console, calls::process_resize_console{100, 30});
       }},
      {"process_close", uvm::errc::ok, [&] { return async(**console, calls::process_close{}); }},
      {"process_wait", uvm::errc::ok,
       [&] { return error_of(async(**console, calls::process_wait{})); }},
      {"container_terminate", uvm::errc::ok,
       [&] { return async(**container, calls::container_terminate{}); }},
      {"container_wait", uvm::errc::ok,
       [&] { return async(**container, calls::container_wait{}); }},
      {"container_shutdown", uvm::errc::ok,
       [&] { return async(**container, calls::container_shutdown{}); }},
      make_row(vm, calls::delete_container_state{"c1"}),
      make_row(wcow, calls::add_vsmb{{share, {}, {}}}),
      make_row(wcow, calls::get_vsmb_uvm_path{share}),
      make_row(wcow, calls::remove_vsmb{share}),
      make_row(wcow, calls::add_pipe{R"(\\.\pipe\calls)"}),
      make_row(wcow, calls::remove_pipe{R"(\\.\pipe\calls)"}),
      make_row(wcow, calls::shutdown{}),
      make_row(wcow, calls::wait{}),
      make_row(wcow, calls::close{}),
      make_row(vm, calls::terminate{}),
      make_row(vm, calls::wait{}),
      make_row(vm, calls::close{}),
      // Closing a closed VM is no error.
      make_row(vm, calls::close{}),
  };
  run_table(table);
  CHECK(eng.list()->empty());
  CHECK(eng.late_replies().undone == 0);
  CHECK(eng.late_replies().kept == 0);
}

TEST_CASE("the blocking and asynchronous forms give the same results", "[engine][async][calls]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = eng.call(calls::create_lcow{host.lcow("same"), {}, {}});
  REQUIRE(vm);
  REQUIRE_FALSE(vm->call(calls::start{}));
  auto blocking = vm->call(calls::add_scsi{
      {"/d/same.vhdx", "/run/mounts/same", false, uvm::vm_access_type::noop, false, ""}});
  auto asynchronous = async(*vm, calls::add_scsi{{"/d/same.vhdx", "/run/mounts/same", false,
                                                  uvm::vm_access_type::noop, false, ""}});
  REQUIRE(blocking);
  REQUIRE(asynchronous);
  // One disk, two references, the same slot.
  CHECK(blocking->controller == asynchronous->controller);
  CHECK(blocking->lun == asynchronous->lun);
  CHECK(asynchronous->uvm_path == "/run/mounts/same");
  CHECK(vm->call(calls::info{})->state == async(*vm, calls::info{})->state);
  CHECK(eng.call(calls::find{"same"})->id() == "same");
  CHECK(async(eng, calls::find{"same"})->os() == "linux");
  CHECK_FALSE(vm->close());
}

TEST_CASE("a caller's deadline on any call: deadline exceeded at once, a late success undone",
          "[engine][async][calls][deadline]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto vm = eng.create_lcow(host.lcow("due"));
  REQUIRE(vm);
  REQUIRE_FALSE(vm->start());

  eng.sim().hold(uvm::hcs::call_kind::modify, true);
  auto due = std::chrono::steady_clock::now() + 150ms;
  auto late = async(*vm, calls::assign_device{gpu()}, due);
  CHECK(std::chrono::steady_clock::now() >= due);
  REQUIRE_FALSE(late);
  CHECK(late.err().code == uvm::errc::deadline_exceeded);
  CHECK(late.err().text == "deadline exceeded: assign_device on utility VM due");
  eng.sim().hold(uvm::hcs::call_kind::modify, false);
  // The device assigned after its caller gave up is removed again.
  REQUIRE(eventually([&] { return eng.late_replies().undone == 1; }, 10s));
  REQUIRE(eventually([&] { return oracle_of(eng, "due")["vpci"].empty(); }));

  // A call without an engine deadline (a container's wait) takes one too.
  auto c = vm->create_container("w1", container_config({"sleep", "30"}));
  REQUIRE(c);
  REQUIRE_FALSE(c->start());
  auto waited = async(*c, calls::container_wait{}, std::chrono::steady_clock::now() + 100ms);
  CHECK(waited.code == uvm::errc::deadline_exceeded);
  CHECK(waited.text == "deadline exceeded: container_wait on utility VM due");
  REQUIRE_FALSE(c->terminate());

  // A call bound to no VM, past its deadline already.
  auto eps = async(eng, calls::setup_network_endpoints{"late-ns", {"ep"}},
                   std::chrono::steady_clock::now() - 1ms);
  REQUIRE_FALSE(eps);
  CHECK(eps.err().text == "deadline exceeded: setup_network_endpoints on the engine");
  CHECK(eng.hns().namespaces().count("late-ns") == 0);

  // An empty handle refuses at once.
  uvm::guest_process none;
  CHECK(async(none, calls::process_wait{}).err().text == "no process");
  CHECK_FALSE(vm->close());
}

TEST_CASE("Release() of every resource handle, blocking and asynchronous, and its failure",
          "[engine][resources][calls]") {
  host_dir host;
  uvm::engine eng{test_config()};
  auto lcow = eng.create_lcow(host.lcow("rel-lcow"));
  REQUIRE(lcow);
  REQUIRE_FALSE(lcow->start());
  auto wcow = eng.create_wcow(host.wcow("rel-wcow"));
  REQUIRE(wcow);
  REQUIRE_FALSE(wcow->start());
  auto share = make_dir(host, "share");

  SECTION("SCSIMount") {
    auto m = lcow->add_scsi("/d/r.vhdx", "/run/mounts/r", false, uvm::vm_access_type::noop);
    REQUIRE(m);
    CHECK(m->controller == 0);
    REQUIRE_FALSE(m->release());
    CHECK(oracle_of(eng, "rel-lcow")["scsi"].empty());
    CHECK(m->release().code == uvm::errc::not_attached);
  }
  SECTION("VSMBShare") {
    auto s = wcow->add_vsmb(share, {});
    REQUIRE(s);
    CHECK(s->host_path == share);
    REQUIRE_FALSE(async(*s, calls::release{}));
    CHECK(wcow->get_vsmb_uvm_path(share).err().code == uvm::errc::not_attached);
    CHECK(s->release());
  }
  SECTION("Plan9Share") {
    auto s = lcow->add_plan9(share, "/run/mounts/p9", true, false, {});
    REQUIRE(s);
    std::promise<uvm::error> released;
    s->release([&](uvm::error e) { released.set_value(std::move(e)); });
    CHECK_FALSE(released.get_future().get());
    CHECK(oracle_of(eng, "rel-lcow")["plan9"].empty());
    CHECK(s->release());
  }
  SECTION("PipeMount") {
    auto p = wcow->add_pipe(R"(\\.\pipe\rel)");
    REQUIRE(p);
    CHECK(p->host_path == R"(\\.\pipe\rel)");
    REQUIRE_FALSE(p->release());
    CHECK(oracle_of(eng, "rel-wcow")["mapped_pipes"].empty());
    CHECK(p->release().code == uvm::errc::hcs_failure);
  }
  SECTION("VPCIDevice") {
    auto d = lcow->assign_device(gpu());
    REQUIRE(d);
    REQUIRE(oracle_of(eng, "rel-lcow")["vpci"].contains(d->id));
    REQUIRE_FALSE(d->release());
    CHECK(oracle_of(eng, "rel-lcow")["vpci"].empty());
    auto again = async(*d, calls::release{"again"}, std::chrono::steady_clock::now() + 10s);
    CHECK(again.code == uvm::errc::hcs_failure);
  }
  SECTION("NetworkEndpoints") {
    auto eps = eng.setup_network_endpoints("rel-ns", {"ep-1", "ep-2"});
    REQUIRE(eps);
    CHECK(eng.hns().namespaces().at("rel-ns") == std::set<std::string>{"ep-1", "ep-2"});
    // The host refuses: the error comes back and nothing is cleared.
    eng.hns().fail_next(1, {uvm::errc::io_failure, "HNS unavailable"});
    auto refused = eps->release();
    CHECK(refused.text == "HNS unavailable");
    CHECK(eps->endpoint_ids.size() == 2);
    // An endpoint already gone is skipped.
    REQUIRE_FALSE(eng.hns().remove_namespace_endpoint("rel-ns", "ep-1"));
    REQUIRE_FALSE(eps->release());
    CHECK(eps->endpoint_ids.empty());
    CHECK(eng.hns().namespaces().count("rel-ns") == 0);
    // The asynchronous form, with the namespace already gone: no error.
    auto again = eng.setup_network_endpoints("rel-ns2", {"ep"});
    REQUIRE(again);
    REQUIRE_FALSE(eng.hns().remove_namespace("rel-ns2"));
    CHECK_FALSE(async(*again, calls::release_network_endpoints{}));
  }
  CHECK_FALSE(lcow->close());
  CHECK_FALSE(wcow->close());
}

// An engine of its own behind a node on a loopback port, as uvmd serves
// it; a client declared after it ends first.
struct published_node {
  std::unique_ptr<uvm::engine> server;
  caf::actor node;
  uint16_t port = 0;

  published_node() {
    auto cfg = test_config();
    cfg.network.enabled = true;
    server = std::make_unique<uvm::engine>(cfg);
    node = caf::actor_cast<caf::actor>(uvm::spawn_node(*server));
    auto p = server->system().middleman().publish(caf::actor_cast<uvm::node_actor>(node), 0,
                                                  "127.0.0.1", true);
    REQUIRE(p);
    port = *p;
  }
  ~published_node() {
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    node = nullptr;
    server.reset();
  }
};

TEST_CASE("a connected engine runs the same calls through the same mechanism",
          "[engine][async][calls][remote]") {
  host_dir host;
  published_node n;
  auto& server = n.server;
  {
    auto client = uvm::engine::connect("127.0.0.1", n.port, {}, test_config());
    REQUIRE(client);
    auto& eng = **client;
    auto vm = async(eng, calls::create_lcow{host.lcow("remote-calls"), {}, {}});
    REQUIRE(vm);
    CHECK_FALSE(async(*vm, calls::start{}));
    auto m = async(*vm, calls::add_scsi{{"/d/remote.vhdx", "/run/mounts/remote", false,
                                         uvm::vm_access_type::noop, false, ""}});
    REQUIRE(m);
    CHECK(server->sim().oracle()["remote-calls"]["scsi"].size() == 1);
    CHECK_FALSE(async(*m, calls::release{}));
    CHECK(server->sim().oracle()["remote-calls"]["scsi"].empty());
    uvm::process_parameters echo;
    echo.command_args = {"sh", "-c", "echo remote"};
    echo.create_stdout = true;
    auto p = async(*vm, calls::create_process{echo.to_json()});
    REQUIRE(p);
    auto out = p->communicate("");
    REQUIRE(out);
    CHECK(out->out == "remote\n");
    CHECK(*async(*p, calls::process_wait{}) == 0);
    CHECK(async(eng, calls::find{"remote-calls"})->id() == "remote-calls");
    CHECK(async(eng, calls::list{})->size() == 1);
    CHECK_FALSE(async(*vm, calls::close{}));
  }
}

// Calls issued together cross the network in batches (engine/remote_ref.hpp),
// and so do the node's events: each call still gets its own answer, its own
// error, and the order it was sent in; each event arrives once, in order.
TEST_CASE("calls in flight together through a connected engine each get their own answer",
          "[engine][calls][remote]") {
  host_dir host;
  published_node n;
  auto client = uvm::engine::connect("127.0.0.1", n.port, {}, test_config());
  REQUIRE(client);
  uvm::test::collector heard{**client};
  auto vm = async(**client, calls::create_lcow{host.lcow("remote-window"), {}, {}});
  REQUIRE(vm);
  REQUIRE_FALSE(async(*vm, calls::start{}));
  constexpr int window = 48;
  auto path = [](int i) { return "/d/window-" + std::to_string(i) + ".vhdx"; };
  // Shared with the callbacks: a failed REQUIRE leaves the test while
  // answers may still come.
  auto added = std::make_shared<std::vector<std::promise<uvm::result<uvm::scsi_mount>>>>(window);
  std::vector<std::future<uvm::result<uvm::scsi_mount>>> adds;
  for (int i = 0; i < window; ++i) {
    adds.push_back((*added)[i].get_future());
    uvm::scsi_add_request req;
    req.host_path = path(i);
    vm->add_scsi(
        req, [added, i](uvm::result<uvm::scsi_mount> r) { (*added)[i].set_value(std::move(r)); });
  }
  std::set<std::pair<uint32_t, int32_t>> slots;
  for (int i = 0; i < window; ++i) {
    REQUIRE(adds[i].wait_for(30s) == std::future_status::ready);
    auto m = adds[i].get();
    REQUIRE(m);
    CHECK(m->host_path == path(i));
    slots.emplace(m->controller, m->lun);
  }
  CHECK(slots.size() == window);
  CHECK(n.server->sim().oracle()["remote-window"]["scsi"].size() == window);

  // A remove of each, then a second remove of the first: the second was
  // sent after the first, so it finds the disk gone.
  auto removed = std::make_shared<std::vector<std::promise<uvm::error>>>(window + 1);
  std::vector<std::future<uvm::error>> removes;
  for (int i = 0; i <= window; ++i) {
    removes.push_back((*removed)[i].get_future());
    vm->remove_scsi(path(i % window),
                    [removed, i](const uvm::error& e) { (*removed)[i].set_value(e); });
  }
  for (int i = 0; i <= window; ++i) {
    REQUIRE(removes[i].wait_for(30s) == std::future_status::ready);
    auto e = removes[i].get();
    if (i < window) {
      CHECK_FALSE(e);
    } else {
      CHECK(e.code == uvm::errc::not_attached);
    }
  }
  CHECK(n.server->sim().oracle()["remote-window"]["scsi"].empty());
  CHECK(eventually([&] { return heard->device_count() >= 2 * window; }));
  {
    std::lock_guard<std::mutex> lock{heard->m};
    CHECK(heard->devices.size() == 2 * window);
    std::map<std::string, std::string> last; // host path -> its last action
    for (const auto& e : heard->devices) {
      CHECK(e.vm_id == "remote-window");
      CHECK(e.kind == "scsi");
      CHECK(e.action == (last[e.host_path].empty() ? "added" : "removed"));
      last[e.host_path] = e.action;
    }
    CHECK(last.size() == window);
  }

  // More calls at once than a batch holds: they leave as several, and
  // every one is answered.
  constexpr int burst = 3 * uvm::max_batch;
  auto answered = std::make_shared<std::atomic<int>>(0);
  auto failed = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < burst; ++i) {
    vm->request_async<uvm::vm_stats>(
        [answered, failed](uvm::result<uvm::vm_stats> r) { ++*(r ? answered : failed); },
        uvm::stats_atom_v, std::string{});
  }
  CHECK(eventually([&] { return *answered + *failed == burst; }, 20s));
  CHECK(*failed == 0);
  CHECK_FALSE(async(*vm, calls::close{}));
}

TEST_CASE("a node does not relay to itself a process start or a batch put in a call batch",
          "[engine][calls][remote]") {
  published_node n;
  // A peer that writes its own batches, as any authenticated client could.
  auto client = uvm::engine::connect("127.0.0.1", n.port, {}, test_config());
  REQUIRE(client);
  auto& sys = (*client)->system();
  auto node = sys.middleman().remote_actor<uvm::node_actor>("127.0.0.1", n.port);
  REQUIRE(node);
  auto self_target = caf::actor_cast<caf::actor>(*node);
  uvm::call_batch batch;
  batch.calls.push_back({1, true, self_target,
                         caf::make_message(uvm::remote_exec_atom_v, uvm::utility_vm_actor{},
                                           uvm::process_request{})});
  batch.calls.push_back({2, true, self_target, caf::make_message(uvm::call_batch{})});
  batch.calls.push_back({3, true, self_target, caf::make_message(uvm::list_atom_v)});
  caf::scoped_actor self{sys};
  self->send(*node, std::move(batch));
  std::map<uint64_t, caf::message> replies;
  while (replies.size() < 3) {
    bool got = false;
    self->receive(
        [&](uvm::reply_batch& b) {
          got = true;
          for (auto& r : b.replies) {
            replies.emplace(r.id, std::move(r.content));
          }
        },
        caf::after(10s) >> [] {});
    REQUIRE(got);
  }
  for (uint64_t id : {1, 2}) {
    REQUIRE(replies[id].match_elements<caf::error>());
    auto e = uvm::from_caf_error(replies[id].get_as<caf::error>(0));
    CHECK(e.code == uvm::errc::bad_request);
    CHECK(e.text == "process starts and call batches are sent to the node directly, not in a "
                    "call batch");
  }
  // The rest of the batch ran as usual.
  CHECK(replies[3].match_elements<std::vector<uvm::vm_info>>());
}
