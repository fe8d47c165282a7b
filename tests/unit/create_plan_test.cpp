// CreateLCOW / CreateWCOW without a backend (hcs/create_plan): documents,
// normalization, validation texts, the kernel command line and the merge.
#include "gojson/go_json.hpp"
#include "hcs/create_plan.hpp"
#include "hcs/guid.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace uvm;
using namespace uvm::hcs;

namespace {

const std::string boot_dir = R"(C:\Program Files\Linux Containers)";
const std::string base_layer = R"(C:\ContainerData\layers\base)";
const std::string scratch_dir = R"(C:\ContainerData\uvm1)";
const std::string default_init =
    "-e 1 /bin/vsockexec -e 109 /bin/gcs -v4 -log-format json -loglevel info";

std::string read_vector(const std::string& name) {
  std::ifstream in(std::string(UVM_TEST_VECTORS) + "/" + name, std::ios::binary);
  REQUIRE(in.good());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

host_info test_host() {
  host_info host;
  host.logical_cpus = 2;
  host.os_build = 19041;
  host.executable_name = "uvmtest.exe";
  host.executable_dir = R"(C:\uvm)";
  host.program_files = R"(C:\Program Files)";
  return host;
}

// An in-memory host file system that records what the plan did to it.
struct fake_fs {
  std::set<std::string> paths;
  std::string mkdir_failure;
  std::string copy_failure;
  std::vector<std::string> made;
  std::vector<std::pair<std::string, std::string>> copied;

  host_fs get() {
    host_fs fs;
    fs.exists = [this](const std::string& p) { return paths.count(p) > 0; };
    fs.create_directories = [this](const std::string& p) {
      if (!mkdir_failure.empty()) {
        return error(errc::io_failure, mkdir_failure);
      }
      made.push_back(p);
      paths.insert(p);
      return error();
    };
    fs.copy_file = [this](const std::string& from, const std::string& to) {
      if (!copy_failure.empty()) {
        return error(errc::io_failure, copy_failure);
      }
      copied.emplace_back(from, to);
      paths.insert(to);
      return error();
    };
    return fs;
  }
};

fake_fs lcow_boot_files() {
  fake_fs fs;
  fs.paths = {boot_dir + R"(\kernel)", boot_dir + R"(\initrd.img)"};
  return fs;
}

options_lcow default_lcow(fake_fs& fs) {
  host_info host = test_host();
  return new_default_options_lcow("", "uvmtest", host, fs.get().exists);
}

fake_fs wcow_layers() {
  fake_fs fs;
  fs.paths = {base_layer + R"(\UtilityVM)"};
  return fs;
}

options_wcow default_wcow() {
  options_wcow opts = new_default_options_wcow("", "uvmtest", test_host());
  opts.layer_folders = {base_layer, scratch_dir};
  return opts;
}

std::string lcow_error(const options_lcow& opts, fake_fs& fs, host_info host = test_host()) {
  auto plan = plan_lcow(opts, host, fs.get());
  REQUIRE_FALSE(plan);
  CHECK(plan.err().code == errc::invalid_options);
  return plan.err().text;
}

std::string wcow_error(const options_wcow& opts, fake_fs& fs) {
  auto plan = plan_wcow(opts, test_host(), fs.get());
  REQUIRE_FALSE(plan);
  CHECK(plan.err().code == errc::invalid_options);
  return plan.err().text;
}

// Lower-case 8-4-4-4-12 hex with version 4 and the RFC 4122 variant.
bool is_guid_v4(const std::string& id) {
  if (id.size() != 36) {
    return false;
  }
  for (size_t i = 0; i < id.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    bool hex = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
    if (dash ? id[i] != '-' : !hex) {
      return false;
    }
  }
  return id[14] == '4' && std::string_view("89ab").find(id[19]) != std::string_view::npos;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

TEST_CASE("default LCOW document is byte-equal to the vector", "[create_plan][vectors]") {
  fake_fs fs = lcow_boot_files();
  auto plan = plan_lcow(default_lcow(fs), test_host(), fs.get());
  REQUIRE(plan);
  CHECK(plan->document == read_vector("lcow-uvm-default.create.json"));
  CHECK(is_guid_v4(plan->id));
  CHECK(plan->owner == "uvmtest");
  CHECK(plan->os == "linux");
  CHECK(plan->processor_count == 2);
  CHECK(plan->memory_size_in_mb == 1024);
  CHECK(plan->scsi_controller_count == 1);
  CHECK(plan->vpmem_max_count == 64);
  CHECK(plan->vpmem_max_size_bytes == 4294967296ull);
  CHECK(plan->vpmem_slot0_key.empty());
  CHECK(plan->scratch_disk_path.empty());
  CHECK(plan->external_guest_connection);
  CHECK(plan->warnings.empty());
}

TEST_CASE("default WCOW document is byte-equal to the vector", "[create_plan][vectors]") {
  fake_fs fs = wcow_layers();
  auto plan = plan_wcow(default_wcow(), test_host(), fs.get());
  REQUIRE(plan);
  CHECK(plan->document == read_vector("wcow-uvm-default.create.json"));
  CHECK(plan->os == "windows");
  CHECK(plan->scsi_controller_count == 1);
  CHECK(plan->scratch_disk_path == R"(C:\ContainerData\uvm1\sandbox.vhdx)");
  CHECK_FALSE(plan->external_guest_connection);
  CHECK(plan->vpmem_max_count == 0);
  // The scratch folder and disk were made from the template.
  CHECK(fs.made == std::vector<std::string>{scratch_dir});
  REQUIRE(fs.copied.size() == 1);
  CHECK(fs.copied[0].first == R"(C:\ContainerData\layers\base\UtilityVM\SystemTemplate.vhdx)");
  CHECK(fs.copied[0].second == R"(C:\ContainerData\uvm1\sandbox.vhdx)");
}

TEST_CASE("WCOW keeps an existing scratch and finds UtilityVM in any layer", "[create_plan]") {
  fake_fs fs;
  const std::string top = R"(C:\ContainerData\layers\top)";
  fs.paths = {base_layer + R"(\UtilityVM)", scratch_dir, scratch_dir + R"(\sandbox.vhdx)"};
  options_wcow opts = default_wcow();
  opts.layer_folders = {top, base_layer, scratch_dir};
  opts.common.external_guest_connection = true;
  auto plan = plan_wcow(opts, test_host(), fs.get());
  REQUIRE(plan);
  CHECK(fs.made.empty());
  CHECK(fs.copied.empty());
  CHECK(contains(plan->document, R"("Path":"C:\\ContainerData\\layers\\base\\UtilityVM\\Files")"));
  // An external bridge means HCS does not own the guest connection.
  CHECK_FALSE(contains(plan->document, "GuestConnection"));
  CHECK(plan->external_guest_connection);
}

TEST_CASE("a given id is kept, a missing one is generated fresh", "[create_plan]") {
  fake_fs fs = lcow_boot_files();
  options_lcow opts = default_lcow(fs);
  auto a = plan_lcow(opts, test_host(), fs.get());
  auto b = plan_lcow(opts, test_host(), fs.get());
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->id != b->id);
  opts.common.id = "my-uvm";
  CHECK(plan_lcow(opts, test_host(), fs.get())->id == "my-uvm");
}

TEST_CASE("normalization of processors and memory", "[create_plan]") {
  fake_fs fs = lcow_boot_files();
  options_lcow opts = default_lcow(fs);

  SECTION("processor count is lowered to the host's, nr_cpus keeps the request") {
    opts.common.processor_count = 8;
    auto plan = plan_lcow(opts, test_host(), fs.get());
    REQUIRE(plan);
    CHECK(plan->processor_count == 2);
    CHECK(contains(plan->document, R"("Processor":{"Count":2})"));
    CHECK(contains(plan->document, " nr_cpus=8 "));
    REQUIRE(plan->warnings.size() == 1);
    CHECK(contains(plan->warnings[0], "CPUCount"));
  }
  SECTION("processor count has no lower bound") {
    opts.common.processor_count = 0;
    auto zero = plan_lcow(opts, test_host(), fs.get());
    REQUIRE(zero);
    CHECK(contains(zero->document, R"("Processor":{})"));
    opts.common.processor_count = -1;
    auto negative = plan_lcow(opts, test_host(), fs.get());
    REQUIRE(negative);
    CHECK(negative->processor_count == -1);
    CHECK(contains(negative->document, R"("Processor":{"Count":-1})"));
  }
  SECTION("odd memory sizes are rounded up to even") {
    opts.common.memory_size_in_mb = 1023;
    auto plan = plan_lcow(opts, test_host(), fs.get());
    REQUIRE(plan);
    CHECK(plan->memory_size_in_mb == 1024);
    CHECK(contains(plan->document, R"("SizeInMB":1024,)"));
    REQUIRE(plan->warnings.size() == 1);
    CHECK(contains(plan->warnings[0], "MemorySizeInMB"));
    opts.common.memory_size_in_mb = 1025;
    CHECK(plan_lcow(opts, test_host(), fs.get())->memory_size_in_mb == 1026);
  }
  SECTION("memory 0 leaves the size to the platform") {
    opts.common.memory_size_in_mb = 0;
    auto plan = plan_lcow(opts, test_host(), fs.get());
    REQUIRE(plan);
    CHECK(contains(plan->document, R"("Memory":{"AllowOvercommit":true})"));
    CHECK(plan->warnings.empty());
  }
  SECTION("WCOW normalizes the same way") {
    fake_fs wfs = wcow_layers();
    options_wcow w = default_wcow();
    w.common.processor_count = 3;
    w.common.memory_size_in_mb = 2047;
    auto plan = plan_wcow(w, test_host(), wfs.get());
    REQUIRE(plan);
    CHECK(plan->processor_count == 2);
    CHECK(plan->memory_size_in_mb == 2048);
    CHECK(plan->warnings.size() == 2);
  }
}

TEST_CASE("LCOW validation errors carry the seed's texts, in order", "[create_plan]") {
  fake_fs fs = lcow_boot_files();
  options_lcow opts = default_lcow(fs);

  SECTION("kernel not found") {
    opts.kernel_file = "vmlinux";
    CHECK(lcow_error(opts, fs) ==
          R"(kernel: 'C:\Program Files\Linux Containers\vmlinux' not found)");
  }
  SECTION("boot file not found") {
    opts.root_fs_file = "rootfs.vhd";
    CHECK(lcow_error(opts, fs) ==
          R"(boot file: 'C:\Program Files\Linux Containers\rootfs.vhd' not found)");
  }
  SECTION("SCSI controller count above 4") {
    opts.scsi_controller_count = 5;
    CHECK(lcow_error(opts, fs) == "SCSI controller count must be between 0 and 4");
  }
  SECTION("more than 128 VPMEM devices") {
    opts.vpmem_device_count = 129;
    CHECK(lcow_error(opts, fs) == "vpmem device count cannot be greater than 128");
  }
  SECTION("VPMEM size not a multiple of 4096") {
    opts.vpmem_size_bytes = 4096 * 3 + 1;
    CHECK(lcow_error(opts, fs) == "opts.VPMemSizeBytes must be a multiple of 4096");
    opts.vpmem_device_count = 0; // size is not checked without devices
    CHECK(plan_lcow(opts, test_host(), fs.get()));
  }
  SECTION("VHD boot needs a VPMEM device") {
    fs.paths.insert(boot_dir + R"(\rootfs.vhd)");
    opts.root_fs_file = "rootfs.vhd";
    opts.preferred_root_fs_type = preferred_rootfs_type::vhd;
    opts.vpmem_device_count = 0;
    CHECK(lcow_error(opts, fs) == "PreferredRootFSTypeVHD requires at least one VPMem device");
  }
  SECTION("kernel direct on an old build") {
    host_info old = test_host();
    old.os_build = 18285;
    CHECK(lcow_error(opts, fs, old) ==
          "KernelDirectBoot is not support on builds older than 18286");
  }
  SECTION("cold discard hint on an old build") {
    host_info old = test_host();
    old.os_build = 18966;
    opts.enable_cold_discard_hint = true;
    CHECK(lcow_error(opts, fs, old) ==
          "EnableColdDiscardHint is not supported on builds older than 18967");
    old.os_build = 18967;
    CHECK(plan_lcow(opts, old, fs.get()));
  }
  SECTION("the first failing check wins") {
    opts.kernel_file = "missing";
    opts.scsi_controller_count = 9;
    opts.vpmem_device_count = 500;
    CHECK(contains(lcow_error(opts, fs), "kernel: "));
    opts.kernel_file = "kernel";
    CHECK(lcow_error(opts, fs) == "SCSI controller count must be between 0 and 4");
    opts.scsi_controller_count = 1;
    opts.vpmem_size_bytes = 1;
    CHECK(lcow_error(opts, fs) == "vpmem device count cannot be greater than 128");
  }
}

TEST_CASE("SCSI controller counts 0 to 4 are accepted", "[create_plan]") {
  fake_fs fs = lcow_boot_files();
  options_lcow opts = default_lcow(fs);
  std::vector<std::pair<uint32_t, std::string>> cases = {
      {0, ""},
      {2, R"("Scsi":{"0":{},"1":{}},)"},
      {4, R"("Scsi":{"0":{},"1":{},"2":{},"3":{}},)"},
  };
  for (const auto& [count, scsi] : cases) {
    opts.scsi_controller_count = count;
    auto plan = plan_lcow(opts, test_host(), fs.get());
    REQUIRE(plan);
    CHECK(plan->scsi_controller_count == count);
    if (scsi.empty()) {
      CHECK_FALSE(contains(plan->document, "Scsi"));
    } else {
      CHECK(contains(plan->document, scsi));
    }
  }
}

TEST_CASE("WCOW validation and scratch errors", "[create_plan]") {
  fake_fs fs = wcow_layers();
  options_wcow opts = default_wcow();

  SECTION("fewer than 2 layer folders") {
    opts.layer_folders = {base_layer};
    CHECK(wcow_error(opts, fs) == "at least 2 LayerFolders must be supplied");
  }
  SECTION("no UtilityVM folder") {
    fs.paths.clear();
    CHECK(wcow_error(opts, fs) == "failed to locate utility VM folder from layer folders: "
                                  "utility VM folder could not be found in layers");
  }
  SECTION("scratch folder cannot be created") {
    fs.mkdir_failure = "mkdir C:\\ContainerData\\uvm1: Access is denied.";
    auto plan = plan_wcow(opts, test_host(), fs.get());
    REQUIRE_FALSE(plan);
    CHECK(plan.err().code == errc::io_failure);
    CHECK(plan.err().text == "failed to create utility VM scratch folder: mkdir "
                             "C:\\ContainerData\\uvm1: Access is denied.");
  }
  SECTION("scratch disk cannot be copied") {
    fs.copy_failure = "The system cannot find the file specified.";
    auto plan = plan_wcow(opts, test_host(), fs.get());
    REQUIRE_FALSE(plan);
    CHECK(plan.err().code == errc::io_failure);
    CHECK(plan.err().text ==
          "failed to create scratch: The system cannot find the file specified.");
  }
}

TEST_CASE("kernel command line variants", "[create_plan]") {
  fake_fs fs = lcow_boot_files();
  options_lcow opts = default_lcow(fs);

  CHECK(lcow_kernel_cmdline(opts) ==
        " 8250_core.nr_uarts=0 panic=-1 quiet pci=off nr_cpus=2 brd.rd_nr=0 pmtmr=0 -- " +
            default_init);

  SECTION("console pipe turns on the serial console and a debug shell") {
    opts.console_pipe = R"(\\.\pipe\vmpipe)";
    CHECK(lcow_kernel_cmdline(opts) ==
          " 8250_core.nr_uarts=1 8250_core.skip_txen_test=1 console=ttyS0,115200 pci=off "
          "nr_cpus=2 brd.rd_nr=0 pmtmr=0 -- sh -c \"" +
              default_init + " & exec sh\"");
  }
  SECTION("graphics console") {
    opts.enable_graphics_console = true;
    CHECK(lcow_kernel_cmdline(opts) ==
          " 8250_core.nr_uarts=0 console=tty pci=off nr_cpus=2 brd.rd_nr=0 pmtmr=0 -- sh -c \"" +
              default_init + " & exec sh\"");
  }
  SECTION("VHD boot") {
    opts.preferred_root_fs_type = preferred_rootfs_type::vhd;
    CHECK(lcow_kernel_cmdline(opts) ==
          "root=/dev/pmem0 ro rootwait init=/init 8250_core.nr_uarts=0 panic=-1 quiet pci=off "
          "nr_cpus=2 brd.rd_nr=0 pmtmr=0 -- " +
              default_init);
  }
  SECTION("initrd without kernel direct names the initrd") {
    opts.kernel_direct = false;
    CHECK(lcow_kernel_cmdline(opts) ==
          "initrd=/initrd.img 8250_core.nr_uarts=0 panic=-1 quiet pci=off nr_cpus=2 brd.rd_nr=0 "
          "pmtmr=0 -- " +
              default_init);
  }
  SECTION("output forwarding, boot options, PCI") {
    opts.forward_stdout = true;
    opts.forward_stderr = false;
    opts.kernel_boot_options = "debug loglevel=7";
    opts.vpci_enabled = true;
    opts.exec_command_line = "/bin/sh";
    CHECK(lcow_kernel_cmdline(opts) == " 8250_core.nr_uarts=0 panic=-1 quiet debug loglevel=7 "
                                       "nr_cpus=2 brd.rd_nr=0 pmtmr=0 -- -e 1 /bin/vsockexec -o "
                                       "109 /bin/sh");
    opts.forward_stderr = true;
    CHECK(contains(lcow_kernel_cmdline(opts), "/bin/vsockexec -o 109 -e 109 /bin/sh"));
  }
}

TEST_CASE("VHD boot document pre-fills VPMEM slot 0", "[create_plan]") {
  fake_fs fs = lcow_boot_files();
  fs.paths.insert(boot_dir + R"(\rootfs.vhd)");
  options_lcow opts = default_lcow(fs);
  REQUIRE(opts.preferred_root_fs_type == preferred_rootfs_type::vhd);
  auto plan = plan_lcow(opts, test_host(), fs.get());
  REQUIRE(plan);
  CHECK(plan->vpmem_slot0_key == "rootfs.vhd");
  CHECK(contains(
      plan->document,
      R"("LinuxKernelDirect":{"KernelFilePath":"C:\\Program Files\\Linux Containers\\kernel",)"
      R"("KernelCmdLine":"root=/dev/pmem0 ro rootwait init=/init 8250_core.nr_uarts=0)"));
  CHECK(contains(plan->document,
                 R"("VirtualPMem":{"Devices":{"0":{"HostPath":"C:\\Program Files\\Linux )"
                 R"(Containers\\rootfs.vhd","ReadOnly":true,"ImageFormat":"Vhd1"}},)"
                 R"("MaximumCount":64,"MaximumSizeBytes":4294967296})"));
  CHECK_FALSE(contains(plan->document, "InitRdPath"));
}

TEST_CASE("a fully loaded LCOW document keeps the schema's member order", "[create_plan]") {
  fake_fs fs = lcow_boot_files();
  options_lcow opts = default_lcow(fs);
  opts.kernel_direct = false;
  opts.console_pipe = R"(\\.\pipe\vmpipe)";
  opts.enable_graphics_console = true;
  opts.enable_cold_discard_hint = true;
  opts.vpmem_device_count = 0;
  opts.common.external_guest_connection = false;
  opts.common.enable_deferred_commit = true;
  opts.common.low_mmio_gap_in_mb = 1;
  opts.common.high_mmio_base_in_mb = 2;
  opts.common.high_mmio_gap_in_mb = 3;
  opts.common.processor_limit = 50000;
  opts.common.processor_weight = 200;
  opts.common.storage_qos_iops_maximum = 100;
  opts.common.owner = "";

  nlohmann::ordered_json doc = lcow_document(opts, 2, 1024);
  std::string cmdline = "initrd=/initrd.img 8250_core.nr_uarts=1 8250_core.skip_txen_test=1 "
                        "console=ttyS0,115200 console=tty pci=off nr_cpus=2 brd.rd_nr=0 pmtmr=0 "
                        "-- sh -c \\\"" +
                        default_init + " \\u0026 exec sh\\\"";
  CHECK(gojson::go_dump(doc) ==
        R"({"SchemaVersion":{"Major":2,"Minor":1},"VirtualMachine":{"StopOnReset":true,)"
        R"("Chipset":{"Uefi":{"BootThis":{"DeviceType":"VmbFs","DevicePath":"\\kernel",)"
        R"("OptionalData":")" +
            cmdline +
            R"(","VmbFsRootPath":"C:\\Program Files\\Linux Containers"}}},)"
            R"("ComputeTopology":{"Memory":{"SizeInMB":1024,"AllowOvercommit":true,)"
            R"("EnableDeferredCommit":true,"EnableColdDiscardHint":true,"LowMmioGapInMB":1,)"
            R"("HighMmioBaseInMB":2,"HighMmioGapInMB":3},)"
            R"("Processor":{"Count":2,"Limit":50000,"Weight":200}},)"
            R"("Devices":{"ComPorts":{"0":{"NamedPipe":"\\\\.\\pipe\\vmpipe"}},"Scsi":{"0":{}},)"
            R"("VideoMonitor":{},"Keyboard":{},)"
            R"("HvSocket":{"HvSocketConfig":{"DefaultBindSecurityDescriptor":)"
            R"j("D:P(A;;FA;;;SY)(A;;FA;;;BA)"}},"EnhancedModeVideo":{},"Plan9":{}},)j"
            R"("StorageQoS":{"IopsMaximum":100},)"
            R"("GuestConnection":{"UseVsock":true,"UseConnectedSuspend":true}},)"
            R"("ShouldTerminateOnLastHandleClosed":true})");

  opts.use_guest_connection = false;
  CHECK_FALSE(contains(gojson::go_dump(lcow_document(opts, 2, 1024)), "GuestConnection"));
}

TEST_CASE("merging AdditionHCSDocumentJSON", "[create_plan]") {
  nlohmann::ordered_json doc = {{"b", {{"y", 1}, {"x", {1, 2}}}},
                                {"a", "s"},
                                {"c", {{"k", 1}}},
                                {"d", 5},
                                {"big", 9007199254740993ull}};

  SECTION("keys come out sorted, arrays are replaced, null keeps a base object") {
    auto merged = merge_document(doc, R"({"b":{"x":[9]},"c":null,"e":true,"d":null})");
    REQUIRE(merged);
    CHECK(*merged ==
          R"({"a":"s","b":{"x":[9],"y":1},"big":9007199254740992,"c":{"k":1},"d":null,"e":true})");
  }
  SECTION("an empty object still re-serializes through Go's map") {
    auto merged = merge_document(doc, "{}");
    REQUIRE(merged);
    CHECK(*merged == R"({"a":"s","b":{"x":[1,2],"y":1},"big":9007199254740992,"c":{"k":1},"d":5})");
  }
  SECTION("no JSON or a literal null means nothing to merge") {
    CHECK(*merge_document(doc, "") == gojson::go_dump(doc));
    CHECK(*merge_document(doc, " null ") == gojson::go_dump(doc));
  }
  SECTION("additional values win over the document's, objects merge deeply") {
    auto merged = merge_document(doc, R"({"b":{"y":{"deep":0.5}},"a":{"now":"obj"}})");
    REQUIRE(merged);
    CHECK(*merged == R"({"a":{"now":"obj"},"b":{"x":[1,2],"y":{"deep":0.5}},)"
                     R"("big":9007199254740992,"c":{"k":1},"d":5})");
  }
  SECTION("failures name the JSON and Go's reason") {
    auto array = merge_document(doc, "[1]");
    REQUIRE_FALSE(array);
    CHECK(array.err().code == errc::invalid_options);
    CHECK(array.err().text == "failed to merge additional JSON '[1]': json: cannot unmarshal "
                              "array into Go value of type map[string]interface {}");
    CHECK(merge_document(doc, "7").err().text ==
          "failed to merge additional JSON '7': json: cannot unmarshal number into Go value of "
          "type map[string]interface {}");
    CHECK(contains(merge_document(doc, R"({"a":1e400})").err().text,
                   R"(failed to merge additional JSON '{"a":1e400}': )"));
    CHECK(merge_document(doc, "{x").err().text ==
          "failed to merge additional JSON '{x': invalid character 'x' looking for beginning of "
          "object key string");
  }
}

TEST_CASE("the merge applies to the planned document", "[create_plan]") {
  fake_fs fs = lcow_boot_files();
  options_lcow opts = default_lcow(fs);
  opts.common.addition_hcs_document_json =
      R"({"VirtualMachine":{"Devices":{"Plan9":null},"ComputeTopology":{"Memory":{"SizeInMB":2048}}}})";
  auto plan = plan_lcow(opts, test_host(), fs.get());
  REQUIRE(plan);
  CHECK(plan->document ==
        R"({"Owner":"uvmtest","SchemaVersion":{"Major":2,"Minor":1},)"
        R"("ShouldTerminateOnLastHandleClosed":true,"VirtualMachine":{"Chipset":)"
        R"({"LinuxKernelDirect":{"InitRdPath":"C:\\Program Files\\Linux Containers\\initrd.img",)"
        R"("KernelCmdLine":" 8250_core.nr_uarts=0 panic=-1 quiet pci=off nr_cpus=2 brd.rd_nr=0 )"
        R"(pmtmr=0 -- -e 1 /bin/vsockexec -e 109 /bin/gcs -v4 -log-format json -loglevel info",)"
        R"("KernelFilePath":"C:\\Program Files\\Linux Containers\\kernel"}},)"
        R"("ComputeTopology":{"Memory":{"AllowOvercommit":true,"SizeInMB":2048},)"
        R"("Processor":{"Count":2}},"Devices":{"HvSocket":{"HvSocketConfig":)"
        R"j({"DefaultBindSecurityDescriptor":"D:P(A;;FA;;;SY)(A;;FA;;;BA)"}},"Plan9":{},)j"
        R"("Scsi":{"0":{}},"VirtualPMem":{"MaximumCount":64,"MaximumSizeBytes":4294967296}},)"
        R"("StopOnReset":true}})");

  opts.common.addition_hcs_document_json = "not json";
  CHECK(lcow_error(opts, fs) == "failed to merge additional JSON 'not json': invalid character "
                                "'o' in literal null (expecting 'u')");

  fake_fs wfs = wcow_layers();
  options_wcow w = default_wcow();
  w.common.addition_hcs_document_json = R"("str")";
  CHECK(wcow_error(w, wfs) == R"(failed to merge additional JSON '"str"': json: cannot )"
                              R"(unmarshal string into Go value of type map[string]interface {})");
}

TEST_CASE("WCOW on the real file system creates the scratch from the template", "[create_plan]") {
  namespace stdfs = std::filesystem;
  stdfs::path root = stdfs::temp_directory_path() / ("uvm-plan-" + new_guid());
  stdfs::remove_all(root);
  stdfs::create_directories(root / "base" / "UtilityVM");
  std::ofstream(root / "base" / "UtilityVM" / "SystemTemplate.vhdx") << "template";

  options_wcow opts = default_wcow();
  opts.layer_folders = {(root / "base").string(), (root / "scratch" / "uvm1").string()};
  host_fs fs = real_host_fs();
  auto plan = plan_wcow(opts, test_host(), fs);
  REQUIRE(plan);
  CHECK(plan->scratch_disk_path == (root / "scratch" / "uvm1" / "sandbox.vhdx").string());
  std::ifstream copy(plan->scratch_disk_path);
  std::string text;
  copy >> text;
  CHECK(text == "template");

  CHECK(fs.exists(root.string()));
  CHECK_FALSE(fs.exists((root / "nothing").string()));
  error failed = fs.copy_file((root / "nothing").string(), (root / "x").string());
  CHECK(failed.code == errc::io_failure);
  CHECK(failed.text == "copy " + (root / "nothing").string() + " to " + (root / "x").string() +
                           ": no such file or directory");

  // A scratch "folder" that is a file: Go's words for what went wrong.
  std::ofstream(root / "scratch-file") << "not a folder";
  opts.layer_folders = {(root / "base").string(), (root / "scratch-file").string()};
  auto file_scratch = plan_wcow(opts, test_host(), fs);
  REQUIRE_FALSE(file_scratch);
  CHECK(file_scratch.err().text ==
        "failed to create scratch: copy " +
            (root / "base" / "UtilityVM" / "SystemTemplate.vhdx").string() + " to " +
            (root / "scratch-file" / "sandbox.vhdx").string() + ": not a directory");
  stdfs::remove_all(root);
}

TEST_CASE("new_guid gives distinct lower-case v4 GUIDs from any thread", "[create_plan]") {
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& ids : per_thread) {
    threads.emplace_back([&ids] {
      for (int i = 0; i < 250; ++i) {
        ids.push_back(new_guid());
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  std::set<std::string> all;
  for (const auto& ids : per_thread) {
    for (const auto& id : ids) {
      CHECK(is_guid_v4(id));
      all.insert(id);
    }
  }
  CHECK(all.size() == 1000);
}
