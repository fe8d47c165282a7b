// Everything that crosses an actor boundary survives CAF's binary
// serialization (what a remote node would send), errors keep their words.
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include "messages/caf/interfaces.hpp"
#include "messages/caf/registration.hpp"
#include "messages/events.hpp"

namespace {

template <class T>
T round_trip(caf::actor_system& sys, T value) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE_FALSE(sink(value));
  T out;
  caf::binary_deserializer source{sys, buf};
  REQUIRE_FALSE(source(out));
  return out;
}

} // namespace

TEST_CASE("messages survive serialization", "[serialization]") {
  caf::actor_system_config cfg;
  uvm::register_types(cfg);
  caf::actor_system sys{cfg};

  uvm::options_lcow o;
  o.common.id = "vm1";
  o.common.memory_size_in_mb = 2048;
  o.boot_files_path = "C:\\boot";
  o.vpmem_size_bytes = 1ull << 33;
  o.preferred_root_fs_type = uvm::preferred_rootfs_type::vhd;
  auto o2 = round_trip(sys, o);
  CHECK(o2.common.id == "vm1");
  CHECK(o2.common.memory_size_in_mb == 2048);
  CHECK(o2.boot_files_path == "C:\\boot");
  CHECK(o2.vpmem_size_bytes == (1ull << 33));
  CHECK(o2.preferred_root_fs_type == uvm::preferred_rootfs_type::vhd);

  uvm::options_wcow w;
  w.layer_folders = {"a", "b"};
  CHECK(round_trip(sys, w).layer_folders == w.layer_folders);

  uvm::vm_info info{"id", "owner", "linux", 2, 1024, false, "rt", uvm::lifecycle_state::exited, 3};
  auto info2 = round_trip(sys, info);
  CHECK(info2.state == uvm::lifecycle_state::exited);
  CHECK(info2.restarts == 3);
  CHECK(info2.runtime_id == "rt");

  uvm::vm_exited_event ev{"vm1", "act", true, "boom"};
  auto ev2 = round_trip(sys, ev);
  CHECK(ev2.unexpected);
  CHECK(ev2.exit_error == "boom");

  uvm::restart_policy p;
  p.kind = uvm::restart_kind::on_failure;
  p.max_restarts = 9;
  auto p2 = round_trip(sys, p);
  CHECK(p2.kind == uvm::restart_kind::on_failure);
  CHECK(p2.max_restarts == 9);

  uvm::guest_capabilities_info caps{4, true, false, true, false, "linux"};
  auto caps2 = round_trip(sys, caps);
  CHECK(caps2.protocol == 4);
  CHECK(caps2.namespace_add_request_supported);
  CHECK(caps2.dump_stacks_supported);
  CHECK(caps2.runtime_os_type == "linux");
}

TEST_CASE("device requests and handles survive serialization", "[serialization]") {
  caf::actor_system_config cfg;
  uvm::register_types(cfg);
  caf::actor_system sys{cfg};

  uvm::vsmb_add_request v{"C:\\layers\\l1", {}, "act"};
  v.options.read_only = true;
  v.options.single_file_mapping = true;
  auto v2 = round_trip(sys, v);
  CHECK(v2.host_path == v.host_path);
  CHECK(v2.options.read_only);
  CHECK(v2.options.single_file_mapping);
  CHECK_FALSE(v2.options.cache_io);
  CHECK(v2.activity_id == "act");

  uvm::plan9_add_request p{"/srv", "/m", true, true, {"a", "b"}, "act"};
  auto p2 = round_trip(sys, p);
  CHECK(p2.allowed_names == p.allowed_names);
  CHECK(p2.restrict_access);

  uvm::combine_layers_request c;
  c.lcow = false;
  c.layers = {{"id1", "C:\\l1", "AbsolutePath", ""}};
  c.root_path = "C:\\c\\1";
  auto c2 = round_trip(sys, c);
  CHECK_FALSE(c2.lcow);
  REQUIRE(c2.layers.size() == 1);
  CHECK(c2.layers[0].path_type == "AbsolutePath");

  uvm::hcs::network_endpoint e;
  e.id = "ep1";
  e.namespace_id = "ns1";
  e.prefix_length = 24;
  e.encap_overhead = 50;
  auto e2 = round_trip(sys, std::vector<uvm::hcs::network_endpoint>{e});
  REQUIRE(e2.size() == 1);
  CHECK(e2[0].namespace_id == "ns1");
  CHECK(e2[0].prefix_length == 24);
  CHECK(e2[0].encap_overhead == 50);

  uvm::hcs::virtual_pci_device d;
  d.functions = {{"PCIP\\VEN_10DE", 3}};
  auto d2 = round_trip(sys, d);
  REQUIRE(d2.functions.size() == 1);
  CHECK(d2.functions[0].virtual_function == 3);

  auto share = round_trip(sys, uvm::plan9_share_handle{"0", "/srv", "/m"});
  CHECK(share.uvm_path == "/m");
}

TEST_CASE("errors keep the seed's words through CAF", "[serialization]") {
  caf::actor_system_config cfg;
  uvm::register_types(cfg);
  caf::actor_system sys{cfg};
  auto e = uvm::to_caf_error(uvm::errc::too_many_attachments);
  CHECK(sys.render(e) == "too many SCSI attachments");
  auto back = uvm::from_caf_error(round_trip(sys, e));
  CHECK(back.code == uvm::errc::too_many_attachments);
  CHECK(back.text == "too many SCSI attachments");
  auto formatted =
      uvm::to_caf_error(uvm::error{uvm::errc::invalid_options, "kernel: 'x' not found"});
  CHECK(uvm::from_caf_error(round_trip(sys, formatted)).text == "kernel: 'x' not found");
  CHECK_FALSE(uvm::to_caf_error(uvm::error{}));
  CHECK(uvm::default_text(uvm::errc::max_vpmem_layer_size) ==
        "layer size is to large for VPMEM max size");
  CHECK(uvm::default_text(uvm::errc::netns_already_attached) == "network namespace already added");
  CHECK(uvm::default_text(uvm::errc::netns_not_found) == "network namespace not found");
  CHECK(uvm::default_text(uvm::errc::no_scsi_controllers) ==
        "no SCSI controllers configured for this utility VM");
  CHECK(uvm::default_text(uvm::errc::no_available_location) == "no available location");
  CHECK(uvm::default_text(uvm::errc::not_attached) == "not attached");
  CHECK(uvm::default_text(uvm::errc::not_supported) == "not supported");
}
