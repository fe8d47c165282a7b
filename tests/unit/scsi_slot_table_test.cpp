// The SCSI slot table: the seed's limits and errors, ref-counting, the
// in-flight states, and random operation sequences against a reference model.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "actors/core/scsi_slot_table.hpp"

using uvm::errc;
using uvm::scsi_add_decision;
using uvm::scsi_remove_decision;
using uvm::scsi_slot;
using uvm::scsi_slot_table;
using uvm::scsi_state;

namespace {

std::string disk(uint32_t i) {
  return "C:\\disks\\d" + std::to_string(i) + ".vhdx";
}

scsi_add_decision add(scsi_slot_table& t, const std::string& path,
                      const std::string& uvm_path = "/m") {
  auto r = t.begin_add(path, uvm_path, false, "VirtualDisk");
  REQUIRE(r);
  return *r;
}

void attach(scsi_slot_table& t, const std::string& path) {
  REQUIRE(add(t, path).action == scsi_add_decision::attach);
  REQUIRE(*t.attach_succeeded(path) == 1);
}

} // namespace

TEST_CASE("scsi: a VM without controllers refuses adds and removes", "[scsi]") {
  scsi_slot_table t{0};
  auto a = t.begin_add(disk(0), "/m", false, "VirtualDisk");
  REQUIRE_FALSE(a);
  CHECK(a.err().code == errc::no_scsi_controllers);
  CHECK(a.err().text == "no SCSI controllers configured for this utility VM");
  auto r = t.begin_remove(disk(0));
  REQUIRE_FALSE(r);
  CHECK(r.err().text == "no SCSI controllers configured for this utility VM");
}

TEST_CASE("scsi: the 65th disk on one controller is too many", "[scsi]") {
  scsi_slot_table t{1};
  for (uint32_t i = 0; i < 64; ++i) {
    auto d = add(t, disk(i));
    REQUIRE(d.action == scsi_add_decision::attach);
    CHECK(d.attachment.slot == scsi_slot{0, i});
    REQUIRE(t.attach_succeeded(disk(i)));
  }
  auto r = t.begin_add(disk(64), "/m", false, "VirtualDisk");
  REQUIRE_FALSE(r);
  CHECK(r.err().code == errc::too_many_attachments);
  CHECK(r.err().text == "too many SCSI attachments");
  // A disk in flight holds its slot as well.
  scsi_slot_table u{1};
  for (uint32_t i = 0; i < 64; ++i) {
    REQUIRE(add(u, disk(i)).action == scsi_add_decision::attach);
  }
  CHECK(u.begin_add(disk(64), "", false, "PassThru").err().code == errc::too_many_attachments);
}

TEST_CASE("scsi: four controllers hold 256 disks, the 257th fails", "[scsi]") {
  scsi_slot_table t{4};
  for (uint32_t i = 0; i < 256; ++i) {
    auto d = add(t, disk(i));
    REQUIRE(d.action == scsi_add_decision::attach);
    CHECK(d.attachment.slot == scsi_slot{i / 64, i % 64});
  }
  CHECK(t.begin_add(disk(256), "/m", false, "VirtualDisk").err().text ==
        "too many SCSI attachments");
  // More than four controllers are clamped to four.
  CHECK(scsi_slot_table{9}.controllers() == 4);
}

TEST_CASE("scsi: add, add, remove, remove detaches only at the last remove", "[scsi]") {
  scsi_slot_table t{1};
  attach(t, disk(1));
  auto again = add(t, disk(1), "/elsewhere");
  CHECK(again.action == scsi_add_decision::shared);
  CHECK(again.attachment.refs == 2);
  CHECK(again.attachment.uvm_path == "/m"); // the repeat's uvm_path is ignored
  auto first = t.begin_remove(disk(1));
  REQUIRE(first);
  CHECK(first->action == scsi_remove_decision::released);
  CHECK(first->attachment.refs == 1);
  auto last = t.begin_remove(disk(1));
  REQUIRE(last);
  CHECK(last->action == scsi_remove_decision::detach);
  CHECK(last->attachment.slot == scsi_slot{0, 0});
  CHECK(t.find(disk(1)).err().code == errc::not_attached);
  REQUIRE_FALSE(t.detach_succeeded(disk(1)));
  CHECK(t.entries().empty());
  auto gone = t.begin_remove(disk(1));
  REQUIRE_FALSE(gone);
  CHECK(gone.err().text == "not attached");
  // The freed LUN is the first free one again.
  CHECK(add(t, disk(2)).attachment.slot == scsi_slot{0, 0});
}

TEST_CASE("scsi: an add while attaching waits and shares the attach", "[scsi]") {
  scsi_slot_table t{1};
  REQUIRE(add(t, disk(1)).action == scsi_add_decision::attach);
  CHECK(t.find(disk(1)).err().code == errc::not_attached);
  CHECK(t.begin_remove(disk(1)).err().code == errc::not_attached);
  CHECK(add(t, disk(1)).action == scsi_add_decision::wait_attach);
  CHECK(add(t, disk(1)).action == scsi_add_decision::wait_attach);
  CHECK(t.entries().at(0).waiters == 2);
  auto granted = t.attach_succeeded(disk(1));
  REQUIRE(granted);
  CHECK(*granted == 3);
  auto found = t.find(disk(1));
  REQUIRE(found);
  CHECK(found->refs == 3);
  CHECK(found->waiters == 0);
  CHECK(t.begin_remove(disk(1))->action == scsi_remove_decision::released);
  CHECK(t.begin_remove(disk(1))->action == scsi_remove_decision::released);
  CHECK(t.begin_remove(disk(1))->action == scsi_remove_decision::detach);
}

TEST_CASE("scsi: a failed attach frees the slot and fails its waiters", "[scsi]") {
  scsi_slot_table t{1};
  attach(t, disk(0));
  REQUIRE(add(t, disk(1)).attachment.slot == scsi_slot{0, 1});
  REQUIRE(add(t, disk(1)).action == scsi_add_decision::wait_attach);
  auto failed = t.attach_failed(disk(1));
  REQUIRE(failed);
  CHECK(*failed == 1);
  CHECK(t.entries().size() == 1);
  CHECK(t.find(disk(1)).err().code == errc::not_attached);
  // The slot is reused, and the failed path can be tried again.
  CHECK(add(t, disk(2)).attachment.slot == scsi_slot{0, 1});
  CHECK(add(t, disk(1)).attachment.slot == scsi_slot{0, 2});
  // Completions for nothing in flight are internal errors.
  CHECK(t.attach_succeeded(disk(0)).err().code == errc::internal);
  CHECK(t.attach_failed(disk(9)).err().code == errc::internal);
  CHECK(t.detach_failed(disk(0)).code == errc::internal);
}

TEST_CASE("scsi: adds and removes of a disk being detached wait", "[scsi]") {
  scsi_slot_table t{1};
  attach(t, disk(1));
  REQUIRE(t.begin_remove(disk(1))->action == scsi_remove_decision::detach);
  CHECK(add(t, disk(1)).action == scsi_add_decision::wait_detach);
  CHECK(t.begin_remove(disk(1))->action == scsi_remove_decision::wait_detach);
  CHECK(t.find(disk(1)).err().code == errc::not_attached);
  // A failed detach restores the remover's ref (no underflow as in v0.8.8).
  REQUIRE_FALSE(t.detach_failed(disk(1)));
  auto back = t.find(disk(1));
  REQUIRE(back);
  CHECK(back->refs == 1);
  CHECK(back->state == scsi_state::attached);
  REQUIRE(t.begin_remove(disk(1))->action == scsi_remove_decision::detach);
  REQUIRE_FALSE(t.detach_succeeded(disk(1)));
  // The parked adder asks again and attaches anew.
  CHECK(add(t, disk(1)).action == scsi_add_decision::attach);
}

TEST_CASE("scsi: the WCOW scratch sits at 0:0, the first user disk on LUN 1", "[scsi]") {
  uvm::scsi_attachment scratch;
  scratch.host_path = "C:\\ContainerData\\uvm1\\sandbox.vhdx";
  scratch.uvm_path = "C:\\";
  scsi_slot_table t{1, scratch};
  auto found = t.find(scratch.host_path);
  REQUIRE(found);
  CHECK(found->slot == scsi_slot{0, 0});
  CHECK(found->refs == 1);
  auto d = add(t, disk(1));
  CHECK(d.attachment.slot == scsi_slot{0, 1});
  CHECK(t.to_json()["0:0"]["host_path"] == scratch.host_path);
  CHECK(t.to_json()["0:1"]["state"] == "attaching");
  CHECK(t.to_json()["0:1"]["type"] == "VirtualDisk");
}

namespace {

// The reference: what a correct table holds, computed the simple way.
struct model_entry {
  scsi_slot slot;
  uint32_t refs = 0;
  uint32_t waiters = 0;
  scsi_state state = scsi_state::attaching;
};

struct scsi_model {
  uint32_t controllers;
  std::map<std::string, model_entry> entries;

  std::optional<scsi_slot> first_free() const {
    std::vector<bool> used(controllers * 64, false);
    for (const auto& [path, e] : entries) {
      used[e.slot.controller * 64 + e.slot.lun] = true;
    }
    for (uint32_t i = 0; i < used.size(); ++i) {
      if (!used[i]) {
        return scsi_slot{i / 64, i % 64};
      }
    }
    return std::nullopt;
  }
};

class scsi_harness {
public:
  scsi_harness(uint32_t controllers, uint32_t seed)
      : table_(controllers), model_{controllers, {}}, rng_(seed) {}

  void add(const std::string& path) {
    auto r = table_.begin_add(path, "/m/" + path, false, "VirtualDisk");
    auto it = model_.entries.find(path);
    if (it == model_.entries.end()) {
      auto slot = model_.first_free();
      if (!slot) {
        REQUIRE_FALSE(r);
        REQUIRE(r.err().code == errc::too_many_attachments);
        ++seen["too many"];
        return;
      }
      REQUIRE(r);
      REQUIRE(r->action == scsi_add_decision::attach);
      REQUIRE(r->attachment.slot == *slot);
      model_.entries[path] = model_entry{*slot, 0, 0, scsi_state::attaching};
      attaching_.push_back(path);
      return;
    }
    REQUIRE(r);
    auto& e = it->second;
    switch (e.state) {
    case scsi_state::attached:
      REQUIRE(r->action == scsi_add_decision::shared);
      ++e.refs;
      break;
    case scsi_state::attaching:
      REQUIRE(r->action == scsi_add_decision::wait_attach);
      ++e.waiters;
      ++seen["wait attach"];
      break;
    case scsi_state::detaching:
      REQUIRE(r->action == scsi_add_decision::wait_detach);
      parked_adds_.push_back(path);
      ++seen["add waits detach"];
      break;
    }
  }

  void remove(const std::string& path) {
    auto r = table_.begin_remove(path);
    auto it = model_.entries.find(path);
    if (it == model_.entries.end() || it->second.state == scsi_state::attaching) {
      REQUIRE_FALSE(r);
      REQUIRE(r.err().code == errc::not_attached);
      return;
    }
    REQUIRE(r);
    auto& e = it->second;
    if (e.state == scsi_state::detaching) {
      REQUIRE(r->action == scsi_remove_decision::wait_detach);
      parked_removes_.push_back(path);
      ++seen["remove waits detach"];
    } else if (--e.refs > 0) {
      REQUIRE(r->action == scsi_remove_decision::released);
    } else {
      REQUIRE(r->action == scsi_remove_decision::detach);
      REQUIRE(r->attachment.slot == e.slot);
      e.state = scsi_state::detaching;
      detaching_.push_back(path);
    }
  }

  void finish_attach(bool ok) {
    auto path = take(attaching_);
    auto& e = model_.entries.at(path);
    if (ok) {
      REQUIRE(*table_.attach_succeeded(path) == 1 + e.waiters);
      e = model_entry{e.slot, 1 + e.waiters, 0, scsi_state::attached};
    } else {
      REQUIRE(*table_.attach_failed(path) == e.waiters);
      seen["failed attach with waiters"] += e.waiters > 0 ? 1 : 0;
      model_.entries.erase(path);
    }
  }

  void finish_detach(bool ok) {
    auto path = take(detaching_);
    if (ok) {
      REQUIRE_FALSE(table_.detach_succeeded(path));
      model_.entries.erase(path);
    } else {
      REQUIRE_FALSE(table_.detach_failed(path));
      ++seen["failed detach"];
      auto& e = model_.entries.at(path);
      e.refs = 1;
      e.state = scsi_state::attached;
    }
    // The parked callers of this path ask again.
    retry(parked_removes_, path, [this](const std::string& p) { remove(p); });
    retry(parked_adds_, path, [this](const std::string& p) { add(p); });
  }

  void check() const {
    auto entries = table_.entries();
    REQUIRE(entries.size() == model_.entries.size());
    for (const auto& a : entries) {
      const auto& e = model_.entries.at(a.host_path);
      REQUIRE(a.slot == e.slot);
      REQUIRE(a.slot.controller < model_.controllers);
      REQUIRE(a.refs == e.refs);
      REQUIRE(a.waiters == e.waiters);
      REQUIRE(a.state == e.state);
    }
  }

  // Random operations in phases that fill the table and drain it again.
  void run(int steps, uint32_t paths) {
    for (int step = 0; step < steps; ++step) {
      bool filling = (step / 1500) % 2 == 0;
      int op = pick(100);
      std::string path = "p" + std::to_string(pick(paths));
      if (op < (filling ? 50 : 25)) {
        add(path);
      } else if (op < 70) {
        remove(pick(10) < 8 ? held_path().value_or(path) : path);
      } else if (op < 85 && !attaching_.empty()) {
        finish_attach(pick(4) != 0);
      } else if (!detaching_.empty()) {
        finish_detach(pick(4) != 0);
      }
      check();
    }
  }

  // Completes everything and releases every ref: the table must end empty
  // with every slot usable again.
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
    for (uint32_t i = 0; i < model_.controllers * 64; ++i) {
      REQUIRE(table_.begin_add("fresh" + std::to_string(i), "", false, "PassThru"));
    }
  }

private:
  uint32_t pick(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }

  std::string take(std::vector<std::string>& list) {
    auto i = pick(static_cast<uint32_t>(list.size()));
    auto path = list[i];
    list.erase(list.begin() + i);
    return path;
  }

  std::optional<std::string> held_path() {
    std::vector<std::string> held;
    for (const auto& [path, e] : model_.entries) {
      if (e.refs > 0) {
        held.push_back(path);
      }
    }
    if (held.empty()) {
      return std::nullopt;
    }
    return held[pick(static_cast<uint32_t>(held.size()))];
  }

  template <class F>
  void retry(std::vector<std::string>& parked, const std::string& path, F f) {
    std::vector<std::string> again;
    for (auto it = parked.begin(); it != parked.end();) {
      if (*it == path) {
        again.push_back(*it);
        it = parked.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& p : again) {
      f(p);
    }
  }

public:
  std::map<std::string, int> seen; // how often each interesting case came up

private:
  scsi_slot_table table_;
  scsi_model model_;
  std::mt19937 rng_;
  std::vector<std::string> attaching_, detaching_, parked_adds_, parked_removes_;
};

} // namespace

TEST_CASE("scsi: random operations with failures agree with the model", "[scsi]") {
  uint32_t controllers = GENERATE(1u, 2u);
  scsi_harness h{controllers, 1234 + controllers};
  h.run(20000, controllers * 64 + 24);
  h.drain();
  for (const char* c : {"too many", "wait attach", "add waits detach", "remove waits detach",
                        "failed attach with waiters", "failed detach"}) {
    INFO(c);
    CHECK(h.seen[c] > 0);
  }
}
