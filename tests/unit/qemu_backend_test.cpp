// The QEMU backend against a real QEMU (TCG), without an actor system: the
// lifecycle, QMP hot-plug of a SCSI disk, refusals with reasons, and exits
// (asked for, or QEMU killed). The guest need not boot for any of this, but
// QEMU needs a kernel it can load: the boot files of scripts/boot-files.sh.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>

#include <nlohmann/json.hpp>

#include "hcs/qemu/qemu_backend.hpp"

using namespace uvm::hcs;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

bool qemu_available() {
  return std::system("command -v qemu-system-x86_64 > /dev/null 2>&1") == 0 &&
         fs::exists(fs::path{UVM_BOOT_FILES} / "vmlinux");
}

std::string document(uint32_t scsi_controllers = 1, bool plan9 = false) {
  nlohmann::json scsi = nlohmann::json::object();
  for (uint32_t c = 0; c < scsi_controllers; ++c) {
    scsi[std::to_string(c)] = nlohmann::json::object();
  }
  nlohmann::json doc{
      {"Owner", "test"},
      {"SchemaVersion", {{"Major", 2}, {"Minor", 1}}},
      {"VirtualMachine",
       {{"Chipset",
         {{"LinuxKernelDirect",
           {{"KernelFilePath", std::string{UVM_BOOT_FILES} + "/vmlinux"},
            {"InitRdPath", std::string{UVM_BOOT_FILES} + "/initrd.img"},
            {"KernelCmdLine", "panic=-1 quiet"}}}}},
        {"ComputeTopology", {{"Memory", {{"SizeInMB", 128}}}, {"Processor", {{"Count", 1}}}}},
        {"Devices",
         {{"Scsi", scsi},
          {"VirtualPMem", {{"MaximumCount", 4}, {"MaximumSizeBytes", 1 << 30}}}}}}}};
  if (plan9) {
    doc["VirtualMachine"]["Devices"]["Plan9"] = nlohmann::json::object();
  }
  return doc.dump();
}

// A backend call, waited for.
template <class Call>
call_result wait_for(Call call) {
  auto done = std::make_shared<std::promise<call_result>>();
  auto f = done->get_future();
  call([done](call_result r) { done->set_value(std::move(r)); });
  REQUIRE(f.wait_for(60s) == std::future_status::ready);
  return f.get();
}

struct exit_probe {
  std::shared_ptr<std::promise<exit_info>> exited = std::make_shared<std::promise<exit_info>>();
  std::future<exit_info> future = exited->get_future();
  exit_handler handler() {
    return [p = exited](exit_info info) { p->set_value(std::move(info)); };
  }
};

std::string scsi_request(const std::string& type, const std::string& path) {
  nlohmann::json r = {{"ResourcePath", "VirtualMachine/Devices/Scsi/0/Attachments/3"},
                      {"RequestType", type}};
  if (type == "Add") {
    r["Settings"] = {{"Type", "VirtualDisk"}, {"Path", path}, {"ReadOnly", true}};
  }
  return r.dump();
}

} // namespace

TEST_CASE("a QEMU compute system: create, start, hot-plug, refusals, terminate", "[qemu][vm]") {
  if (!qemu_available()) {
    WARN("QEMU or the boot files in " UVM_BOOT_FILES " are missing: nothing to run");
    return;
  }
  auto dir = fs::temp_directory_path() / ("uvm-qemu-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto disk = (dir / "disk.img").string();
  std::ofstream{disk}.close();
  fs::resize_file(disk, 4 << 20);
  auto odd = (dir / "odd.img").string();
  std::ofstream{odd}.close();
  fs::resize_file(odd, (4 << 20) + 4096);
  qemu::backend_config cfg;
  cfg.state_root = (dir / "state").string();
  qemu::qemu_backend b{cfg};
  exit_probe probe;
  auto r = wait_for([&](completion c) { b.create("vm1", document(), probe.handler(), c); });
  REQUIRE(r.message == "");
  REQUIRE(r.ok());
  CHECK(b.state_dir("vm1") == cfg.state_root + "/vm1.1");
  CHECK(b.guest_connection("vm1") == "qemu:" + b.state_dir("vm1"));
  CHECK(fs::exists(b.state_dir("vm1") + "/gcs.sock"));
  auto props = wait_for([&](completion c) { b.properties("vm1", "{}", c); });
  CHECK(nlohmann::json::parse(props.payload)["State"] == "Created");
  REQUIRE(wait_for([&](completion c) { b.start("vm1", c); }).ok());
  props = wait_for(
      [&](completion c) { b.properties("vm1", R"({"PropertyTypes":["Statistics"]})", c); });
  auto stats = nlohmann::json::parse(props.payload);
  CHECK(stats["State"] == "Running");
  CHECK(stats["Statistics"]["Memory"]["MemoryUsageCommitBytes"].get<uint64_t>() > 0);

  SECTION("SCSI hot-plug and its errors") {
    CHECK(wait_for([&](completion c) { b.modify("vm1", scsi_request("Add", disk), c); }).ok());
    auto again = wait_for([&](completion c) { b.modify("vm1", scsi_request("Add", disk), c); });
    CHECK(again.hresult == hr::already_exists);
    CHECK(wait_for([&](completion c) { b.modify("vm1", scsi_request("Remove", ""), c); }).ok());
    auto gone = wait_for([&](completion c) { b.modify("vm1", scsi_request("Remove", ""), c); });
    CHECK(gone.hresult == hr::element_not_found);
    auto missing = wait_for([&](completion c) {
      b.modify("vm1", scsi_request("Add", (dir / "nope.img").string()), c);
    });
    CHECK(missing.hresult == hr::invalid_arg);
    CHECK(missing.message ==
          "SCSI disk: stat " + (dir / "nope.img").string() + ": no such file or directory");
    auto folder =
        wait_for([&](completion c) { b.modify("vm1", scsi_request("Add", dir.string()), c); });
    CHECK(folder.message == "SCSI disk: open " + dir.string() + ": is a directory");
    nlohmann::json physical = nlohmann::json::parse(scsi_request("Add", disk));
    physical["Settings"]["Type"] = "PassThru";
    auto not_block = wait_for([&](completion c) { b.modify("vm1", physical.dump(), c); });
    CHECK(not_block.message == "SCSI disk: open " + disk + ": block device required");
  }
  SECTION("VPMEM images must be 2 MiB multiples; unknown resources are refused") {
    nlohmann::json add = {{"ResourcePath", "VirtualMachine/Devices/VirtualPMem/Devices/0"},
                          {"RequestType", "Add"},
                          {"Settings", {{"HostPath", odd}, {"ReadOnly", true}}}};
    auto r2 = wait_for([&](completion c) { b.modify("vm1", add.dump(), c); });
    CHECK(r2.hresult == hr::invalid_arg);
    CHECK(r2.message.find("not a multiple of 2 MiB") != std::string::npos);
    add["ResourcePath"] = "VirtualMachine/Devices/VirtualPMem/Devices/16";
    add["Settings"]["HostPath"] = disk;
    auto r3 = wait_for([&](completion c) { b.modify("vm1", add.dump(), c); });
    CHECK(r3.message.find("16 VPMEM slots") != std::string::npos);
    add["ResourcePath"] = "VirtualMachine/Devices/VirtualPMem/Devices/1";
    add["Settings"]["HostPath"] = dir.string();
    auto folder = wait_for([&](completion c) { b.modify("vm1", add.dump(), c); });
    CHECK(folder.hresult == hr::invalid_arg);
    CHECK(folder.message == "VPMEM image: open " + dir.string() + ": is a directory");
    nlohmann::json vsmb = {{"ResourcePath", "VirtualMachine/Devices/VirtualSmb/Shares"},
                           {"RequestType", "Add"}};
    auto r4 = wait_for([&](completion c) { b.modify("vm1", vsmb.dump(), c); });
    CHECK(r4.hresult == hr::not_impl);
    // Resizing that needs no guest to refuse (tests/e2e/qemu_backend.sh
    // grows and shrinks a guest).
    auto topology = [&](const std::string& path, const nlohmann::json& settings) {
      nlohmann::json update = {{"ResourcePath", "VirtualMachine/ComputeTopology/" + path},
                               {"Settings", settings}};
      return wait_for([&](completion c) { b.modify("vm1", update.dump(), c); });
    };
    auto below = topology("Memory/SizeInMB", 64);
    CHECK(below.hresult == hr::invalid_arg);
    CHECK(below.message.rfind("memory size 64 MB is below the VM's boot size of 128 MB", 0) == 0);
    CHECK(topology("Memory/SizeInMB", 8192)
              .message.rfind("memory size 8192 MB is beyond the VM's maximum of 4096 MB", 0) == 0);
    CHECK(topology("Memory/SizeInMB", "1G").hresult == hr::invalid_json);
    auto limits = topology("Processor/Limits", {{"Weight", 100}});
    CHECK(limits.hresult == hr::not_impl);
    CHECK(limits.message ==
          "the qemu backend cannot apply processor limits (Weight 100): QEMU runs without a "
          "cgroup of its own");
    CHECK(topology("Processor/Limits", nlohmann::json::object()).ok());
    CHECK(topology("Processor", {{"Count", 9}})
              .message.rfind("processor count 9 is beyond the VM's maximum of 8", 0) == 0);
    CHECK(topology("Processor", {{"Count", 0}}).hresult == hr::invalid_arg);
    CHECK(topology("Processor", {{"Count", 1}}).ok()); // already so
    CHECK(topology("Memory", 1).hresult == hr::invalid_arg);
  }
  REQUIRE(wait_for([&](completion c) { b.terminate("vm1", c); }).ok());
  REQUIRE(probe.future.wait_for(30s) == std::future_status::ready);
  CHECK(probe.future.get().hresult == hr::ok);
  CHECK(wait_for([&](completion c) { b.terminate("vm1", c); }).hresult == hr::already_stopped);
  b.close("vm1");
  CHECK(wait_for([&](completion c) { b.start("vm1", c); }).hresult == hr::system_not_found);
  // The VM's worker may still be removing its state folder.
  std::error_code racing;
  fs::remove_all(dir, racing);
}

TEST_CASE("a Plan9 share must be a folder", "[qemu][vm]") {
  if (!qemu_available()) {
    WARN("QEMU or the boot files in " UVM_BOOT_FILES " are missing: nothing to run");
    return;
  }
  auto dir = fs::temp_directory_path() / ("uvm-qemu-plan9-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto file = (dir / "file.txt").string();
  std::ofstream{file} << "not a folder\n";
  {
    qemu::backend_config cfg;
    cfg.state_root = (dir / "state").string();
    qemu::qemu_backend b{cfg};
    REQUIRE(wait_for([&](completion c) { b.create("p9", document(1, true), {}, c); }).ok());
    nlohmann::json add = {{"ResourcePath", "VirtualMachine/Devices/Plan9/Shares"},
                          {"RequestType", "Add"},
                          {"Settings", {{"Name", "0"}, {"AccessName", "0"}, {"Path", file}}}};
    auto r = wait_for([&](completion c) { b.modify("p9", add.dump(), c); });
    CHECK(r.hresult == hr::invalid_arg);
    CHECK(r.message == "Plan9 share: open " + file + ": not a directory");
    REQUIRE(wait_for([&](completion c) { b.terminate("p9", c); }).ok());
  } // the backend removes its state folders before it is gone
  fs::remove_all(dir);
}

TEST_CASE("QEMU killed: an unexpected exit naming the signal", "[qemu][vm]") {
  if (!qemu_available()) {
    WARN("QEMU or the boot files in " UVM_BOOT_FILES " are missing: nothing to run");
    return;
  }
  auto dir = fs::temp_directory_path() / ("uvm-qemu-kill-" + std::to_string(::getpid()));
  qemu::backend_config cfg;
  cfg.state_root = dir.string();
  qemu::qemu_backend b{cfg};
  exit_probe probe;
  REQUIRE(wait_for([&](completion c) { b.create("k", document(), probe.handler(), c); }).ok());
  REQUIRE(wait_for([&](completion c) { b.start("k", c); }).ok());
  REQUIRE(b.pid_of("k") > 0);
  ::kill(b.pid_of("k"), SIGKILL);
  REQUIRE(probe.future.wait_for(30s) == std::future_status::ready);
  auto info = probe.future.get();
  CHECK(info.hresult == hr::unexpected_exit);
  CHECK(info.message.find("QEMU exited on its own (killed by signal 9") != std::string::npos);
  // A call after the exit fails with the state, not a hang.
  auto r = wait_for([&](completion c) { b.modify("k", scsi_request("Remove", ""), c); });
  CHECK(r.hresult == hr::invalid_state);
  b.close("k");
}

TEST_CASE("documents and boot files QEMU cannot use fail the create", "[qemu][vm]") {
  if (std::system("command -v qemu-system-x86_64 > /dev/null 2>&1") != 0) {
    WARN("QEMU is not installed: nothing to run");
    return;
  }
  auto dir = fs::temp_directory_path() / ("uvm-qemu-bad-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream{dir / "kernel"} << "not a kernel\n";
  qemu::backend_config cfg;
  cfg.state_root = (dir / "state").string();
  qemu::qemu_backend b{cfg};
  auto doc = nlohmann::json::parse(document());
  doc["VirtualMachine"]["Chipset"]["LinuxKernelDirect"]["KernelFilePath"] =
      (dir / "kernel").string();
  doc["VirtualMachine"]["Chipset"]["LinuxKernelDirect"].erase("InitRdPath");
  auto r = wait_for([&](completion c) { b.create("bad", doc.dump(), {}, c); });
  CHECK(r.hresult == hr::fail);
  CHECK(r.message.find("QEMU did not start") != std::string::npos);
  doc["VirtualMachine"]["Chipset"]["LinuxKernelDirect"]["KernelFilePath"] =
      (dir / "missing").string();
  r = wait_for([&](completion c) { b.create("bad2", doc.dump(), {}, c); });
  CHECK(r.hresult == hr::invalid_arg);
  CHECK(r.message == "kernel file cannot be read: stat " + (dir / "missing").string() +
                         ": no such file or directory");
  doc["VirtualMachine"]["Chipset"]["LinuxKernelDirect"]["KernelFilePath"] = dir.string();
  r = wait_for([&](completion c) { b.create("bad3", doc.dump(), {}, c); });
  CHECK(r.hresult == hr::invalid_arg);
  CHECK(r.message == "kernel file cannot be read: open " + dir.string() + ": is a directory");
  // A failed create leaves no system behind.
  r = wait_for([&](completion c) { b.create("bad2", doc.dump(), {}, c); });
  CHECK(r.hresult == hr::invalid_arg);
  CHECK(wait_for([&](completion c) { b.start("bad", c); }).hresult == hr::system_not_found);
  fs::remove_all(dir);
}
