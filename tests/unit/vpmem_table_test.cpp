// The VPMEM table: the seed's limits and errors, ref-counting, the in-flight
// states, and random operation sequences against a reference model.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "actors/core/vpmem_table.hpp"

using uvm::errc;
using uvm::vpmem_add_decision;
using uvm::vpmem_remove_decision;
using uvm::vpmem_state;
using uvm::vpmem_table;

namespace {

constexpr uint64_t gib = 1024ull * 1024 * 1024;

std::string layer(uint32_t i) {
  return "C:\\layers\\l" + std::to_string(i) + "\\layer.vhd";
}

vpmem_add_decision add(vpmem_table& t, const std::string& path, uint64_t size = gib) {
  auto r = t.begin_add(path, size);
  REQUIRE(r);
  return *r;
}

} // namespace

TEST_CASE("vpmem: a layer larger than the device size is refused", "[vpmem]") {
  vpmem_table t{64, 4 * gib};
  auto r = t.begin_add(layer(0), 4 * gib + 1);
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::max_vpmem_layer_size);
  CHECK(r.err().text == "layer size is to large for VPMEM max size");
  CHECK(add(t, layer(0), 4 * gib).action == vpmem_add_decision::attach);
  // A repeat add shares the device without looking at the size.
  REQUIRE(t.attach_succeeded(layer(0)));
  CHECK(add(t, layer(0), 8 * gib).action == vpmem_add_decision::shared);
}

TEST_CASE("vpmem: devices are numbered from 0 until none is left", "[vpmem]") {
  vpmem_table t{3, gib};
  for (uint32_t i = 0; i < 3; ++i) {
    auto d = add(t, layer(i));
    REQUIRE(d.action == vpmem_add_decision::attach);
    CHECK(d.device.device_number == i);
    CHECK(d.device.uvm_path == "/run/layers/p" + std::to_string(i));
  }
  auto r = t.begin_add(layer(3), gib);
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::no_available_location);
  CHECK(r.err().text == "no available location");
  // The size is checked before the slots.
  CHECK(t.begin_add(layer(3), 2 * gib).err().code == errc::max_vpmem_layer_size);
  // More than 128 devices are clamped to 128.
  vpmem_table big{500, gib};
  for (uint32_t i = 0; i < 128; ++i) {
    REQUIRE(big.begin_add(layer(i), 1));
  }
  CHECK(big.begin_add(layer(128), 1).err().code == errc::no_available_location);
}

TEST_CASE("vpmem: add, add, remove, remove detaches only at the last remove", "[vpmem]") {
  vpmem_table t{4, gib};
  REQUIRE(add(t, layer(1)).action == vpmem_add_decision::attach);
  REQUIRE(*t.attach_succeeded(layer(1)) == 1);
  auto again = add(t, layer(1));
  CHECK(again.action == vpmem_add_decision::shared);
  CHECK(again.device.refs == 2);
  CHECK(t.begin_remove(layer(1))->action == vpmem_remove_decision::released);
  auto last = t.begin_remove(layer(1));
  REQUIRE(last);
  CHECK(last->action == vpmem_remove_decision::detach);
  CHECK(last->device.device_number == 0);
  CHECK(last->device.uvm_path == "/run/layers/p0");
  REQUIRE_FALSE(t.detach_succeeded(layer(1)));
  CHECK(t.entries().empty());
  auto gone = t.begin_remove(layer(1));
  REQUIRE_FALSE(gone);
  CHECK(gone.err().text == "not attached");
}

TEST_CASE("vpmem: in-flight adds wait, share or fail together", "[vpmem]") {
  vpmem_table t{4, gib};
  REQUIRE(add(t, layer(1)).action == vpmem_add_decision::attach);
  CHECK(t.find(layer(1)).err().code == errc::not_attached);
  CHECK(t.begin_remove(layer(1)).err().code == errc::not_attached);
  CHECK(add(t, layer(1)).action == vpmem_add_decision::wait_attach);
  CHECK(*t.attach_succeeded(layer(1)) == 2);
  CHECK(t.find(layer(1))->refs == 2);

  REQUIRE(add(t, layer(2)).device.device_number == 1);
  CHECK(add(t, layer(2)).action == vpmem_add_decision::wait_attach);
  CHECK(add(t, layer(2)).action == vpmem_add_decision::wait_attach);
  CHECK(*t.attach_failed(layer(2)) == 2);
  CHECK(add(t, layer(3)).device.device_number == 1); // the slot is free again
  CHECK(t.attach_failed(layer(1)).err().code == errc::internal);
}

TEST_CASE("vpmem: a device being detached makes adds and removes wait", "[vpmem]") {
  vpmem_table t{4, gib};
  REQUIRE(add(t, layer(1)).action == vpmem_add_decision::attach);
  REQUIRE(t.attach_succeeded(layer(1)));
  REQUIRE(t.begin_remove(layer(1))->action == vpmem_remove_decision::detach);
  CHECK(add(t, layer(1)).action == vpmem_add_decision::wait_detach);
  CHECK(t.begin_remove(layer(1))->action == vpmem_remove_decision::wait_detach);
  REQUIRE_FALSE(t.detach_failed(layer(1)));
  CHECK(t.find(layer(1))->refs == 1);
  CHECK(t.detach_succeeded(layer(1)).code == errc::internal);
}

TEST_CASE("vpmem: the VHD root FS holds device 0 under its bare name", "[vpmem]") {
  vpmem_table t{64, 4 * gib, std::string{"rootfs.vhd"}};
  auto root = t.find("rootfs.vhd");
  REQUIRE(root);
  CHECK(root->device_number == 0);
  CHECK(root->uvm_path == "/");
  CHECK(root->refs == 1);
  CHECK(add(t, layer(1)).device.uvm_path == "/run/layers/p1");
  CHECK(t.to_json()["0"]["host_path"] == "rootfs.vhd");
  CHECK(t.to_json()["1"]["state"] == "attaching");
}

namespace {

struct model_entry {
  uint32_t number = 0;
  uint32_t refs = 0;
  uint32_t waiters = 0;
  vpmem_state state = vpmem_state::attaching;
};

class vpmem_harness {
public:
  vpmem_harness(uint32_t count, uint32_t seed) : table_(count, gib), count_(count), rng_(seed) {}

  void add(const std::string& path, uint64_t size) {
    auto r = table_.begin_add(path, size);
    auto it = model_.find(path);
    if (it == model_.end()) {
      auto number = first_free();
      if (size > gib || !number) {
        REQUIRE_FALSE(r);
        REQUIRE(r.err().code ==
                (size > gib ? errc::max_vpmem_layer_size : errc::no_available_location));
        ++seen[size > gib ? "too large" : "no location"];
        return;
      }
      REQUIRE(r);
      REQUIRE(r->action == vpmem_add_decision::attach);
      REQUIRE(r->device.device_number == *number);
      REQUIRE(r->device.uvm_path == "/run/layers/p" + std::to_string(*number));
      model_[path] = model_entry{*number, 0, 0, vpmem_state::attaching};
      attaching_.push_back(path);
      return;
    }
    REQUIRE(r);
    auto& e = it->second;
    if (e.state == vpmem_state::attached) {
      REQUIRE(r->action == vpmem_add_decision::shared);
      ++e.refs;
    } else if (e.state == vpmem_state::attaching) {
      REQUIRE(r->action == vpmem_add_decision::wait_attach);
      ++e.waiters;
      ++seen["wait attach"];
    } else {
      REQUIRE(r->action == vpmem_add_decision::wait_detach);
      parked_adds_.push_back(path);
      ++seen["add waits detach"];
    }
  }

  void remove(const std::string& path) {
    auto r = table_.begin_remove(path);
    auto it = model_.find(path);
    if (it == model_.end() || it->second.state == vpmem_state::attaching) {
      REQUIRE(r.err().code == errc::not_attached);
      return;
    }
    REQUIRE(r);
    auto& e = it->second;
    if (e.state == vpmem_state::detaching) {
      REQUIRE(r->action == vpmem_remove_decision::wait_detach);
      parked_removes_.push_back(path);
    } else if (--e.refs > 0) {
      REQUIRE(r->action == vpmem_remove_decision::released);
    } else {
      REQUIRE(r->action == vpmem_remove_decision::detach);
      REQUIRE(r->device.device_number == e.number);
      e.state = vpmem_state::detaching;
      detaching_.push_back(path);
    }
  }

  void finish_attach(bool ok) {
    auto path = take(attaching_);
    auto& e = model_.at(path);
    if (ok) {
      REQUIRE(*table_.attach_succeeded(path) == 1 + e.waiters);
      e = model_entry{e.number, 1 + e.waiters, 0, vpmem_state::attached};
    } else {
      REQUIRE(*table_.attach_failed(path) == e.waiters);
      seen["failed attach with waiters"] += e.waiters > 0 ? 1 : 0;
      model_.erase(path);
    }
  }

  void finish_detach(bool ok) {
    auto path = take(detaching_);
    if (ok) {
      REQUIRE_FALSE(table_.detach_succeeded(path));
      model_.erase(path);
    } else {
      REQUIRE_FALSE(table_.detach_failed(path));
      model_.at(path) = model_entry{model_.at(path).number, 1, 0, vpmem_state::attached};
      ++seen["failed detach"];
    }
    auto removes = take_all(parked_removes_, path);
    auto adds = take_all(parked_adds_, path);
    for (int i = 0; i < removes; ++i) {
      remove(path);
    }
    for (int i = 0; i < adds; ++i) {
      add(path, gib);
    }
  }

  void check() const {
    auto entries = table_.entries();
    REQUIRE(entries.size() == model_.size());
    for (const auto& d : entries) {
      const auto& e = model_.at(d.host_path);
      REQUIRE(d.device_number == e.number);
      REQUIRE(d.refs == e.refs);
      REQUIRE(d.waiters == e.waiters);
      REQUIRE(d.state == e.state);
    }
  }

  void run(int steps, uint32_t paths) {
    for (int step = 0; step < steps; ++step) {
      bool filling = (step / 500) % 2 == 0;
      int op = pick(100);
      std::string path = "p" + std::to_string(pick(paths));
      if (op < (filling ? 50 : 25)) {
        add(path, pick(20) == 0 ? gib + 1 : gib);
      } else if (op < 70) {
        auto held = held_path();
        remove(pick(10) < 8 && held ? *held : path);
      } else if (op < 85 && !attaching_.empty()) {
        finish_attach(pick(4) != 0);
      } else if (!detaching_.empty()) {
        finish_detach(pick(4) != 0);
      }
      check();
    }
  }

  void drain() {
    while (!attaching_.empty() || !detaching_.empty() || held_path()) {
      if (!attaching_.empty()) {
        finish_attach(true);
      } else if (!detaching_.empty()) {
        finish_detach(true);
      } else {
        remove(*held_path());
      }
      check();
    }
    REQUIRE(table_.entries().empty());
    for (uint32_t i = 0; i < count_; ++i) {
      REQUIRE(table_.begin_add("fresh" + std::to_string(i), gib));
    }
  }

  std::map<std::string, int> seen;

private:
  std::optional<uint32_t> first_free() const {
    for (uint32_t n = 0; n < count_; ++n) {
      bool used = false;
      for (const auto& [path, e] : model_) {
        used = used || e.number == n;
      }
      if (!used) {
        return n;
      }
    }
    return std::nullopt;
  }

  uint32_t pick(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }

  std::string take(std::vector<std::string>& list) {
    auto i = pick(static_cast<uint32_t>(list.size()));
    auto path = list[i];
    list.erase(list.begin() + i);
    return path;
  }

  static int take_all(std::vector<std::string>& list, const std::string& path) {
    auto n = std::count(list.begin(), list.end(), path);
    list.erase(std::remove(list.begin(), list.end(), path), list.end());
    return static_cast<int>(n);
  }

  std::optional<std::string> held_path() {
    std::vector<std::string> held;
    for (const auto& [path, e] : model_) {
      if (e.refs > 0) {
        held.push_back(path);
      }
    }
    if (held.empty()) {
      return std::nullopt;
    }
    return held[pick(static_cast<uint32_t>(held.size()))];
  }

  vpmem_table table_;
  uint32_t count_;
  std::mt19937 rng_;
  std::map<std::string, model_entry> model_;
  std::vector<std::string> attaching_, detaching_, parked_adds_, parked_removes_;
};

} // namespace

TEST_CASE("vpmem: random operations with failures agree with the model", "[vpmem]") {
  vpmem_harness h{8, 77};
  h.run(20000, 14);
  h.drain();
  for (const char* c : {"too large", "no location", "wait attach", "add waits detach",
                        "failed attach with waiters", "failed detach"}) {
    INFO(c);
    CHECK(h.seen[c] > 0);
  }
}

// --- Packed layers (multi-mapping) ---

namespace {

constexpr uint64_t mib = 1024 * 1024;

vpmem_table packed_table(uint32_t count, uint64_t size) {
  return vpmem_table{count, size, std::nullopt, true};
}

} // namespace

TEST_CASE("vpmem packed: layers share a device at page-aligned offsets", "[vpmem][packed]") {
  auto t = packed_table(4, 64 * mib);
  auto first = add(t, layer(0), 3 * mib + 1);
  REQUIRE(first.action == vpmem_add_decision::attach);
  CHECK(first.new_device);
  CHECK(first.device.packed);
  CHECK(first.device.device_number == 0);
  CHECK(first.device.offset == 0);
  CHECK(first.device.size_bytes == 3 * mib + 4096);
  CHECK(first.device.uvm_path == "/run/layers/p0-0-3149824");
  REQUIRE(t.attach_succeeded(layer(0)));
  for (uint32_t i = 1; i < 8; ++i) {
    auto d = add(t, layer(i), mib);
    CHECK_FALSE(d.new_device);
    CHECK(d.device.device_number == 0);
    CHECK(d.device.offset == 3 * mib + 4096 + (i - 1) * mib);
    REQUIRE(t.attach_succeeded(layer(i)));
  }
  auto view = t.to_json();
  CHECK(view.size() == 1);
  CHECK(view["0"]["state"] == "packed");
  CHECK(view["0"]["mappings"].size() == 8);
  CHECK(view["0"]["mappings"]["3149824"]["host_path"] == layer(1));
  CHECK(view["0"]["mappings"]["3149824"]["size_bytes"] == mib);
}

TEST_CASE("vpmem packed: a full device sends the next layer to a new one", "[vpmem][packed]") {
  auto t = packed_table(2, 4 * mib);
  REQUIRE(add(t, layer(0), 3 * mib).device.device_number == 0);
  REQUIRE(t.attach_succeeded(layer(0)));
  auto second = add(t, layer(1), 2 * mib);
  CHECK(second.new_device);
  CHECK(second.device.device_number == 1);
  REQUIRE(t.attach_succeeded(layer(1)));
  // Device 0 still has room for 1 MiB, device 1 for 2 MiB.
  CHECK(add(t, layer(2), mib).device.device_number == 0);
  CHECK(add(t, layer(3), 2 * mib).device.device_number == 1);
  CHECK(t.begin_add(layer(4), 4096).err().code == errc::no_available_location);
  CHECK(t.begin_add(layer(4), 4 * mib + 1).err().code == errc::max_vpmem_layer_size);
}

TEST_CASE("vpmem packed: refs are per layer; the last layer takes the device", "[vpmem][packed]") {
  auto t = packed_table(4, 64 * mib);
  for (uint32_t i = 0; i < 3; ++i) {
    REQUIRE(add(t, layer(i), mib).action == vpmem_add_decision::attach);
    REQUIRE(t.attach_succeeded(layer(i)));
  }
  CHECK(add(t, layer(1), mib).action == vpmem_add_decision::shared);
  CHECK(t.begin_remove(layer(1))->action == vpmem_remove_decision::released);
  auto one = t.begin_remove(layer(1));
  REQUIRE(one->action == vpmem_remove_decision::detach);
  CHECK_FALSE(one->last_on_device);
  CHECK(one->device.offset == mib);
  REQUIRE_FALSE(t.detach_succeeded(layer(1)));
  CHECK(t.find(layer(0)));
  CHECK(t.find(layer(2)));
  // The freed range is the lowest gap again.
  CHECK(add(t, layer(5), mib).device.offset == mib);
  REQUIRE(t.attach_failed(layer(5)));

  REQUIRE_FALSE(t.begin_remove(layer(0))->last_on_device);
  REQUIRE_FALSE(t.detach_succeeded(layer(0)));
  auto last = t.begin_remove(layer(2));
  REQUIRE(last->action == vpmem_remove_decision::detach);
  CHECK(last->last_on_device);
  CHECK(t.to_json()["0"]["state"] == "deleting");
  // A device being removed takes no layer.
  auto other = add(t, layer(6), mib);
  CHECK(other.device.device_number == 1);
  CHECK(other.new_device);
  REQUIRE_FALSE(t.detach_succeeded(layer(2)));
  CHECK_FALSE(t.to_json().contains("0"));
  CHECK(add(t, layer(7), mib).new_device); // device 0 is created again
}

TEST_CASE("vpmem packed: failures put slots and ranges back", "[vpmem][packed]") {
  auto t = packed_table(2, 64 * mib);
  auto d = add(t, layer(0), mib);
  REQUIRE(d.new_device);
  // The device add is in flight: another layer goes to the next slot.
  CHECK(add(t, layer(1), mib).device.device_number == 1);
  CHECK(*t.attach_failed(layer(0)) == 0);
  CHECK(add(t, layer(2), mib).new_device); // slot 0 is free again
  REQUIRE(t.attach_succeeded(layer(2)));
  REQUIRE(t.attach_succeeded(layer(1)));
  REQUIRE(t.begin_remove(layer(2))->last_on_device);
  REQUIRE_FALSE(t.detach_failed(layer(2)));
  CHECK(t.to_json()["0"]["state"] == "packed");
  CHECK(t.find(layer(2))->refs == 1);
  auto next = add(t, layer(3), mib);
  CHECK(next.device.device_number == 0);
  CHECK_FALSE(next.new_device);
}

TEST_CASE("vpmem packed: the VHD root FS keeps device 0 to itself", "[vpmem][packed]") {
  vpmem_table t{4, 64 * mib, std::string{"rootfs.vhd"}, true};
  auto d = add(t, layer(1), mib);
  CHECK(d.device.device_number == 1);
  CHECK(d.new_device);
  CHECK(t.to_json()["0"]["host_path"] == "rootfs.vhd");
  CHECK(t.to_json()["0"]["state"] == "whole");
}
