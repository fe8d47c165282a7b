// The QEMU backend's pure half: a v2 document to a QEMU command line, and
// the QMP arguments of each device.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "hcs/backend.hpp"
#include "hcs/hcs_json.hpp"
#include "hcs/qemu/qemu_machine.hpp"
#include "messages/qemu_pci_layout.hpp"

using namespace uvm::hcs;
using namespace uvm::hcs::qemu;
using nlohmann::json;

namespace {

std::string read_vector(const std::string& name) {
  std::ifstream in(std::string(UVM_TEST_VECTORS) + "/" + name);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The value after `option`, the n-th time it occurs.
std::string option(const std::vector<std::string>& argv, const std::string& name, size_t n = 0) {
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == name && n-- == 0) {
      return argv[i + 1];
    }
  }
  return "<absent>";
}

size_t count(const std::vector<std::string>& argv, const std::string& value) {
  return static_cast<size_t>(std::count(argv.begin(), argv.end(), value));
}

uint32_t rejection_code(const std::string& document) {
  try {
    plan_machine(document, {}, vm_files{"/run/vm"});
  } catch (const rejection& r) {
    return r.hresult;
  }
  return hr::ok;
}

} // namespace

TEST_CASE("the default LCOW document becomes a TCG command line", "[qemu]") {
  auto plan = plan_machine(read_vector("lcow-uvm-default.create.json"), {}, vm_files{"/run/vm"});
  const auto& argv = plan.argv;
  CHECK(argv.front() == "qemu-system-x86_64");
  CHECK(option(argv, "-accel") == "tcg");
  CHECK(option(argv, "-machine") == "pc");
  CHECK(count(argv, "-S") == 1); // created paused: Start resumes it
  CHECK(option(argv, "-smp") == "2,maxcpus=8");
  // 1024 MB of RAM, room to grow to 4096 MB, and room for 16 VPMEM devices
  // of 4 GiB.
  CHECK(option(argv, "-m") ==
        "1024,slots=16,maxmem=" + std::to_string(1024 + 3072 + 16 * 4096) + "M");
  CHECK(option(argv, "-kernel") == R"(C:\Program Files\Linux Containers\kernel)");
  CHECK(option(argv, "-initrd") == R"(C:\Program Files\Linux Containers\initrd.img)");
  CHECK(option(argv, "-chardev") ==
        "socket,id=qmp,path=/run/vm/qmp.sock,server=on,wait=on"); // first: QEMU waits for it
  CHECK(option(argv, "-chardev", 1) == "socket,id=gcs,path=/run/vm/gcs.sock,server=on,wait=off");
  CHECK(option(argv, "-chardev", 2) ==
        "socket,id=stdio,path=/run/vm/stdio.sock,server=on,wait=off");
  CHECK(option(argv, "-chardev", 3) == "socket,id=log,path=/run/vm/log.sock,server=on,wait=off");
  CHECK(option(argv, "-device") == "virtio-serial-pci,id=serial0,multifunction=on,addr=0x2");
  CHECK(option(argv, "-device", 1) == "virtserialport,bus=serial0.0,chardev=gcs,name=gcs");
  CHECK(option(argv, "-device", 3) == "virtserialport,bus=serial0.0,chardev=log,name=log");
  CHECK(option(argv, "-device", 4) == "virtio-scsi-pci,id=scsi0,addr=0x3");
  CHECK(option(argv, "-device", 5) == "pci-bridge,id=nics,chassis_nr=1,addr=0x1f");
  CHECK(option(argv, "-object") == "memory-backend-ram,id=vmem0-mem,size=3072M");
  CHECK(option(argv, "-device", 6) ==
        "virtio-mem-pci,id=vmem0,memdev=vmem0-mem,requested-size=0,block-size=2M,addr=0x2.0x1");
  CHECK(option(argv, "-device", 7) == "<absent>");
  CHECK(plan.scsi_controllers == 1);
  CHECK(plan.vpmem_max_count == 64);
  CHECK(plan.plan9);
  CHECK(count(argv, "-fsdev") == uvm::qemu_layout::plan9_devices);
  CHECK(option(argv, "-fsdev", 7) == "local,id=fs7,path=/run/vm/9p/7,security_model=none");
}

TEST_CASE("the kernel command line boots on QEMU's PC machine", "[qemu]") {
  auto line = qemu_kernel_command_line(
      " 8250_core.nr_uarts=0 panic=-1 quiet pci=off nr_cpus=2 brd.rd_nr=0 pmtmr=0 -- -e 1 "
      "/bin/vsockexec -e 109 /bin/gcs -v4");
  CHECK(line.rfind("panic=-1 quiet brd.rd_nr=0 pmtmr=0 console=ttyS0 ", 0) == 0);
  CHECK(line.find("pci=off") == std::string::npos);
  CHECK(line.find("nr_uarts=0") == std::string::npos);
  CHECK(line.find("nr_cpus") == std::string::npos); // it would cap hot-added processors
  CHECK(line.find(" -- -e 1 /bin/vsockexec -e 109 /bin/gcs -v4") != std::string::npos);
  CHECK(qemu_kernel_command_line("").find("--") == std::string::npos);
  CHECK(qemu_kernel_command_line("quiet").rfind("quiet panic=-1 console=ttyS0", 0) == 0);
  // Memory virtio-mem adds comes online without a guest helper.
  CHECK(line.find(" memhp_default_state=online memory_hotplug.online_policy=auto-movable") !=
        std::string::npos);
}

TEST_CASE("controllers, boot-time disks and memory follow the document", "[qemu]") {
  json doc = json::parse(read_vector("lcow-uvm-default.create.json"));
  auto& vm = doc["VirtualMachine"];
  vm["ComputeTopology"]["Memory"]["SizeInMB"] = 256;
  vm["Devices"].erase("VirtualPMem");
  vm["Devices"].erase("Plan9");
  vm["Devices"]["Scsi"] = {
      {"0", json::object()},
      {"3",
       {{"Attachments",
         {{"2", {{"Type", "VirtualDisk"}, {"Path", "/d/scratch.vhdx"}, {"ReadOnly", true}}}}}}}};
  auto plan = plan_machine(doc.dump(), {"/opt/qemu", ""}, vm_files{"/v"});
  CHECK(plan.argv.front() == "/opt/qemu");
  CHECK(count(plan.argv, "-bios") == 0);
  CHECK(option(plan.argv, "-m") == "256,slots=16,maxmem=4096M");
  CHECK(plan.scsi_controllers == 4);
  CHECK(option(plan.argv, "-device", 7) == "virtio-scsi-pci,id=scsi3,addr=0x6");
  CHECK(count(plan.argv, "-fsdev") == 0);
  REQUIRE(plan.boot_disks.size() == 1);
  CHECK(plan.boot_disks[0].controller == 3);
  CHECK(plan.boot_disks[0].lun == 2);
  CHECK(plan.boot_disks[0].read_only);
}

TEST_CASE("documents QEMU cannot run are refused with a reason", "[qemu]") {
  CHECK(rejection_code(read_vector("wcow-uvm-default.create.json")) == hr::not_impl);
  CHECK(rejection_code("{\"Owner\":\"x\"}") == hr::invalid_arg);
  CHECK(rejection_code("not json") == hr::invalid_json);
  json doc = json::parse(read_vector("lcow-uvm-default.create.json"));
  doc["VirtualMachine"]["Devices"]["Scsi"] = {{"4", json::object()}};
  CHECK(rejection_code(doc.dump()) == hr::invalid_arg);
}

TEST_CASE("SCSI attachments pick QEMU's block driver from the file", "[qemu]") {
  scsi_attachment disk{1, 5, "/x/layer.VHD", "VirtualDisk", true};
  CHECK(block_driver(disk) == "vpc");
  auto blockdev = scsi_blockdev(disk);
  CHECK(blockdev == json{{"node-name", "scsi1-5"},
                         {"read-only", true},
                         {"driver", "vpc"},
                         {"file", {{"driver", "file"}, {"filename", "/x/layer.VHD"}}}});
  CHECK(scsi_device(disk) == json{{"driver", "scsi-hd"},
                                  {"id", "scsi1-5"},
                                  {"drive", "scsi1-5"},
                                  {"bus", "scsi1.0"},
                                  {"scsi-id", 0},
                                  {"lun", 5}});
  CHECK(block_driver({0, 0, "/x/s.vhdx", "VirtualDisk", false}) == "vhdx");
  CHECK(block_driver({0, 0, "/x/disk.img", "", false}) == "raw");
  scsi_attachment physical{0, 0, "/dev/sdb", "PassThru", false};
  CHECK(block_driver(physical) == "host_device");
  CHECK(scsi_blockdev(physical)["driver"] == "raw");
  CHECK(scsi_blockdev(physical)["file"]["driver"] == "host_device");
}

TEST_CASE("VPMEM images map in 2 MiB units", "[qemu]") {
  constexpr uint64_t mib = 1024 * 1024;
  std::string why;
  CHECK(vpmem_mapped_size(8 * mib, false, why) == 8 * mib);
  CHECK(vpmem_mapped_size(8 * mib + 512, true, why) == 8 * mib); // a fixed VHD's data
  CHECK(vpmem_mapped_size(8 * mib + 512, false, why) == 0);
  CHECK(why.find("not a multiple of 2 MiB") != std::string::npos);
  CHECK(why.find("truncate -s 10485760") != std::string::npos);
  CHECK(vpmem_mapped_size(0, false, why) == 0);
  vpmem_device d{3, "/l/layer.img", true};
  CHECK(vpmem_backend(d, 8 * mib) == json{{"qom-type", "memory-backend-file"},
                                          {"id", "pmem3-mem"},
                                          {"mem-path", "/l/layer.img"},
                                          {"size", 8 * mib},
                                          {"share", false},
                                          {"readonly", true}});
  CHECK(vpmem_pci_device(d)["addr"] == "0x12");
  CHECK(plan9_device(2, "7")["mount_tag"] == "7");
  CHECK(plan9_device(2, "7")["addr"] == "0x9");
  CHECK(uvm::qemu_layout::pci_address(uvm::qemu_layout::scsi_slot(1)) == "0000:00:04.0");
}

TEST_CASE("network adapters are virtio-net NICs behind the NIC bridge", "[qemu]") {
  CHECK(nic_netdev(3) == json{{"type", "user"}, {"id", "nic3-net"}});
  CHECK(nic_device(3, "00-15-5D-52-C0-00") == json{{"driver", "virtio-net-pci"},
                                                   {"id", "nic3"},
                                                   {"netdev", "nic3-net"},
                                                   {"mac", "00:15:5D:52:C0:00"},
                                                   {"bus", "nics"},
                                                   {"addr", "0x3"}});
}
