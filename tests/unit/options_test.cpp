// Defaults of NewDefaultOptionsLCOW / NewDefaultOptionsWCOW (uvm-api.md
// §3.1-3.3) and host path joining.
#include "messages/options.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <string>

using namespace uvm;

namespace {

host_info test_host() {
  host_info host;
  host.logical_cpus = 2;
  host.os_build = 19041;
  host.executable_name = "uvmd.exe";
  host.executable_dir = R"(C:\uvm\bin)";
  host.log_level = "info";
  host.program_files = R"(C:\Program Files)";
  return host;
}

exists_fn exists_in(std::set<std::string> paths) {
  return [paths = std::move(paths)](const std::string& p) { return paths.count(p) > 0; };
}

} // namespace

TEST_CASE("join_host_path follows the style of the folder", "[options]") {
  CHECK(join_host_path(R"(C:\Program Files)", "x") == R"(C:\Program Files\x)");
  CHECK(join_host_path(R"(C:\)", "x") == R"(C:\x)");
  CHECK(join_host_path("C:", "x") == R"(C:\x)");
  CHECK(join_host_path("d:", "x") == R"(d:\x)");
  CHECK(join_host_path(R"(\\server\share)", "x") == R"(\\server\share\x)");
  CHECK(join_host_path(R"(rel\dir)", "x") == R"(rel\dir\x)");
  CHECK(join_host_path("/opt/uvm", "x") == "/opt/uvm/x");
  CHECK(join_host_path("/opt/uvm/", "x") == "/opt/uvm/x");
  CHECK(join_host_path("/", "x") == "/x");
  CHECK(join_host_path("rel", "x") == "rel/x");
  CHECK(join_host_path("", "x") == "x");
}

TEST_CASE("common defaults", "[options]") {
  host_info host = test_host();
  options o = new_default_options("id1", "", host);
  CHECK(o.id == "id1");
  CHECK(o.owner == "uvmd.exe");
  CHECK(o.memory_size_in_mb == 1024);
  CHECK(o.allow_overcommit);
  CHECK_FALSE(o.enable_deferred_commit);
  CHECK(o.processor_count == 2);
  CHECK(o.processor_limit == 0);
  CHECK(o.processor_weight == 0);
  CHECK(o.storage_qos_iops_maximum == 0);
  CHECK(o.storage_qos_bandwidth_maximum == 0);
  CHECK(o.addition_hcs_document_json.empty());
  CHECK_FALSE(o.external_guest_connection);

  CHECK(new_default_options("", "me", host).owner == "me");
  host.logical_cpus = 1;
  CHECK(new_default_options("", "", host).processor_count == 1);
  host.logical_cpus = 64;
  CHECK(new_default_options("", "", host).processor_count == 2);
}

TEST_CASE("LCOW defaults without any boot files found", "[options]") {
  options_lcow o = new_default_options_lcow("", "uvmtest", test_host(), exists_in({}));
  CHECK(o.common.id.empty());
  CHECK(o.common.owner == "uvmtest");
  CHECK(o.common.external_guest_connection);
  CHECK(o.boot_files_path == R"(C:\Program Files\Linux Containers)");
  CHECK(o.kernel_file == "kernel");
  CHECK(o.kernel_direct);
  CHECK(o.root_fs_file == "initrd.img");
  CHECK(o.preferred_root_fs_type == preferred_rootfs_type::initrd);
  CHECK(o.kernel_boot_options.empty());
  CHECK_FALSE(o.enable_graphics_console);
  CHECK(o.console_pipe.empty());
  CHECK(o.scsi_controller_count == 1);
  CHECK(o.use_guest_connection);
  CHECK(o.exec_command_line == "/bin/gcs -v4 -log-format json -loglevel info");
  CHECK_FALSE(o.forward_stdout);
  CHECK(o.forward_stderr);
  CHECK(o.vpmem_device_count == 64);
  CHECK(o.vpmem_size_bytes == 4294967296ull);
  CHECK_FALSE(o.enable_cold_discard_hint);
  CHECK_FALSE(o.vpci_enabled);
}

TEST_CASE("LCOW defaults follow the host", "[options]") {
  host_info host = test_host();

  SECTION("log level goes into the GCS command line") {
    host.log_level = "debug";
    CHECK(new_default_options_lcow("", "", host, exists_in({})).exec_command_line ==
          "/bin/gcs -v4 -log-format json -loglevel debug");
  }
  SECTION("LinuxBootFiles beside the executable wins") {
    auto o = new_default_options_lcow(
        "", "", host,
        exists_in({R"(C:\uvm\bin\LinuxBootFiles)", R"(C:\uvm\bin\LinuxBootFiles\vmlinux)",
                   R"(C:\Program Files\Linux Containers\rootfs.vhd)"}));
    CHECK(o.boot_files_path == R"(C:\uvm\bin\LinuxBootFiles)");
    CHECK(o.kernel_file == "vmlinux");
    // rootfs.vhd is looked for in the chosen folder only.
    CHECK(o.root_fs_file == "initrd.img");
  }
  SECTION("vmlinux and rootfs.vhd are picked up") {
    auto o =
        new_default_options_lcow("", "", host,
                                 exists_in({R"(C:\Program Files\Linux Containers\vmlinux)",
                                            R"(C:\Program Files\Linux Containers\rootfs.vhd)"}));
    CHECK(o.kernel_file == "vmlinux");
    CHECK(o.root_fs_file == "rootfs.vhd");
    CHECK(o.preferred_root_fs_type == preferred_rootfs_type::vhd);
  }
  SECTION("old builds boot through UEFI and ignore vmlinux") {
    host.os_build = 18285;
    auto o = new_default_options_lcow("", "", host,
                                      exists_in({R"(C:\Program Files\Linux Containers\vmlinux)"}));
    CHECK_FALSE(o.kernel_direct);
    CHECK(o.kernel_file == "kernel");
  }
  SECTION("a Linux host uses '/' paths") {
    host.executable_dir = "/opt/uvm/bin";
    auto o = new_default_options_lcow(
        "", "", host,
        exists_in({"/opt/uvm/bin/LinuxBootFiles", "/opt/uvm/bin/LinuxBootFiles/vmlinux"}));
    CHECK(o.boot_files_path == "/opt/uvm/bin/LinuxBootFiles");
    CHECK(o.kernel_file == "vmlinux");
  }
  SECTION("the id is kept") {
    CHECK(new_default_options_lcow("abc", "", host, exists_in({})).common.id == "abc");
  }
}

TEST_CASE("WCOW defaults are the common ones", "[options]") {
  options_wcow o = new_default_options_wcow("w1", "", test_host());
  CHECK(o.common.id == "w1");
  CHECK(o.common.owner == "uvmd.exe");
  CHECK(o.common.processor_count == 2);
  CHECK(o.common.memory_size_in_mb == 1024);
  CHECK_FALSE(o.common.external_guest_connection);
  CHECK(o.layer_folders.empty());
}
