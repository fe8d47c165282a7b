// The Plan9 table: names, flags, ref-counting by share identity, the
// in-flight states, and random operation sequences against a reference model.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "actors/core/plan9_table.hpp"

using uvm::errc;
using uvm::plan9_add_decision;
using uvm::plan9_remove_decision;
using uvm::plan9_state;
using uvm::plan9_table;

namespace {

plan9_add_decision add(plan9_table& t, const std::string& host_path, const std::string& uvm_path,
                       bool read_only = false, bool restrict_access = false,
                       std::vector<std::string> allowed_files = {}) {
  auto r = t.begin_add(host_path, uvm_path, read_only, restrict_access, std::move(allowed_files));
  REQUIRE(r);
  return *r;
}

plan9_remove_decision remove(plan9_table& t, const std::string& name) {
  auto r = t.begin_remove(name);
  REQUIRE(r);
  return *r;
}

} // namespace

TEST_CASE("plan9: flags are LinuxMetadata plus read-only and restrict", "[plan9]") {
  CHECK(plan9_table::flags_for(false, false) == 0x4);
  CHECK(plan9_table::flags_for(true, false) == 0x5);
  CHECK(plan9_table::flags_for(false, true) == 0x84);
  CHECK(plan9_table::flags_for(true, true) == 0x85);
}

TEST_CASE("plan9: the first share is the vector's request", "[plan9]") {
  plan9_table t;
  auto r = t.begin_add(R"(C:\share\data)", "/run/mounts/m2", true, false, {});
  REQUIRE(r);
  CHECK(r->action == plan9_add_decision::add);
  CHECK(r->record.mount.name == "0");
  CHECK(r->record.state == plan9_state::adding);
  CHECK(r->record.refs == 0);
  std::ifstream in(std::string(UVM_TEST_VECTORS) + "/plan9-add-lcow.modify.json", std::ios::binary);
  std::string expected(std::istreambuf_iterator<char>(in), {});
  CHECK(uvm::hcs::combined_request(uvm::hcs::plan9_add(r->record.mount)) == expected);
}

TEST_CASE("plan9: names count even past failed adds", "[plan9]") {
  plan9_table t;
  auto missing = t.begin_add("/srv/x", "", false, false, {});
  REQUIRE_FALSE(missing);
  CHECK(missing.err().code == errc::bad_request);
  CHECK(missing.err().text == "uvmPath must be passed to AddPlan9");
  CHECK(t.counter() == 0); // checked before the counter is taken

  auto a = add(t, "/srv/x", "/m/a", false, true, {"f1"});
  CHECK(a.record.mount.name == "0");
  CHECK(a.record.mount.flags == 0x84);
  CHECK(a.record.mount.allowed_files == std::vector<std::string>{"f1"});
  CHECK(*t.add_failed("0") == 0);
  CHECK(t.counter() == 1);
  // The same share again is a new name: the failed one is gone.
  auto again = add(t, "/srv/x", "/m/a", false, true, {"f1"});
  CHECK(again.action == plan9_add_decision::add);
  CHECK(again.record.mount.name == "1");
  CHECK(t.counter() == 2);
}

TEST_CASE("plan9: add, add, remove, remove sends one add and one remove", "[plan9]") {
  plan9_table t;
  REQUIRE(add(t, "/srv/x", "/m/a").action == plan9_add_decision::add);
  CHECK(*t.add_succeeded("0") == 1);
  auto again = add(t, "/srv/x", "/m/a");
  CHECK(again.action == plan9_add_decision::shared);
  CHECK(again.record.mount.name == "0");
  CHECK(again.record.refs == 2);
  CHECK(t.counter() == 1); // a shared add takes no name
  CHECK(t.find("0")->refs == 2);
  CHECK(t.to_json()["0"]["refs"] == 2);

  auto first = remove(t, "0");
  CHECK(first.action == plan9_remove_decision::released);
  CHECK(first.record.refs == 1);
  CHECK(first.record.state == plan9_state::live);
  auto last = remove(t, "0");
  CHECK(last.action == plan9_remove_decision::remove);
  CHECK(last.record.refs == 0);
  CHECK(last.record.mount.uvm_path == "/m/a");
  CHECK(t.find("0").err().code == errc::not_attached);
  REQUIRE_FALSE(t.remove_succeeded("0"));
  CHECK(t.entries().empty());
  auto gone = t.begin_remove("0");
  REQUIRE_FALSE(gone);
  CHECK(gone.err().code == errc::not_attached);
  CHECK(gone.err().text == "not attached");
}

TEST_CASE("plan9: any difference in path or options makes a new share", "[plan9]") {
  plan9_table t;
  REQUIRE(add(t, "/srv/x", "/m/a", false, true, {"f1"}).action == plan9_add_decision::add);
  REQUIRE(t.add_succeeded("0"));
  struct variant {
    std::string host_path, uvm_path;
    bool read_only, restrict_access;
    std::vector<std::string> allowed_files;
  };
  std::vector<variant> variants{
      {"/srv/y", "/m/a", false, true, {"f1"}},       {"/srv/x", "/m/b", false, true, {"f1"}},
      {"/srv/x", "/m/a", true, true, {"f1"}},        {"/srv/x", "/m/a", false, false, {"f1"}},
      {"/srv/x", "/m/a", false, true, {}},           {"/srv/x", "/m/a", false, true, {"f2"}},
      {"/srv/x", "/m/a", false, true, {"f1", "f2"}},
  };
  for (size_t i = 0; i < variants.size(); ++i) {
    const auto& v = variants[i];
    auto d = add(t, v.host_path, v.uvm_path, v.read_only, v.restrict_access, v.allowed_files);
    CHECK(d.action == plan9_add_decision::add);
    CHECK(d.record.mount.name == std::to_string(i + 1));
  }
  CHECK(add(t, "/srv/x", "/m/a", false, true, {"f1"}).action == plan9_add_decision::shared);
  CHECK(t.entries().size() == variants.size() + 1);
  CHECK(t.find("0")->refs == 2);
  CHECK(t.to_json()["1"]["host_path"] == "/srv/y");
  CHECK(t.to_json()["2"]["uvm_path"] == "/m/b");
  CHECK(t.to_json()["3"]["flags"] == 0x85);
  CHECK(t.to_json()["4"]["flags"] == 0x4);
}

TEST_CASE("plan9: adds of a share being added wait, share or fail together", "[plan9]") {
  plan9_table t;
  REQUIRE(add(t, "/srv/x", "/m/a").action == plan9_add_decision::add);
  CHECK(t.find("0").err().code == errc::not_attached);
  CHECK(t.begin_remove("0").err().code == errc::not_attached);
  auto waiter = add(t, "/srv/x", "/m/a");
  CHECK(waiter.action == plan9_add_decision::wait_attach);
  CHECK(waiter.record.waiters == 1);
  CHECK(waiter.record.refs == 0);
  CHECK(t.to_json()["0"]["waiters"] == 1);
  CHECK(t.to_json()["0"]["state"] == "adding");
  CHECK(*t.add_succeeded("0") == 2);
  auto live = t.find("0");
  REQUIRE(live);
  CHECK(live->refs == 2);
  CHECK(live->waiters == 0);

  REQUIRE(add(t, "/srv/y", "/m/b").record.mount.name == "1");
  CHECK(add(t, "/srv/y", "/m/b").action == plan9_add_decision::wait_attach);
  CHECK(add(t, "/srv/y", "/m/b").action == plan9_add_decision::wait_attach);
  CHECK(*t.add_failed("1") == 2);
  CHECK(t.entries().size() == 1);
  CHECK(add(t, "/srv/y", "/m/b").record.mount.name == "2");

  auto misuse = t.add_succeeded("0");
  REQUIRE_FALSE(misuse);
  CHECK(misuse.err().code == errc::internal);
  CHECK(misuse.err().text == "no Plan9 add in flight for share 0");
  CHECK(t.add_failed("1").err().code == errc::internal);
}

TEST_CASE("plan9: a share being removed makes adds and removes wait", "[plan9]") {
  plan9_table t;
  REQUIRE(add(t, "/srv/x", "/m/a").action == plan9_add_decision::add);
  REQUIRE(t.add_succeeded("0"));
  REQUIRE(remove(t, "0").action == plan9_remove_decision::remove);
  auto parked = add(t, "/srv/x", "/m/a");
  CHECK(parked.action == plan9_add_decision::wait);
  CHECK(parked.record.state == plan9_state::removing);
  CHECK(parked.record.refs == 0);
  CHECK(parked.record.waiters == 0);
  CHECK(remove(t, "0").action == plan9_remove_decision::wait);
  CHECK(t.counter() == 1);
  CHECK(t.to_json()["0"]["state"] == "removing");

  // Asked again after the remove: a new share.
  REQUIRE_FALSE(t.remove_succeeded("0"));
  auto fresh = add(t, "/srv/x", "/m/a");
  CHECK(fresh.action == plan9_add_decision::add);
  CHECK(fresh.record.mount.name == "1");
}

TEST_CASE("plan9: a failed remove leaves the share live with one ref", "[plan9]") {
  plan9_table t;
  REQUIRE(add(t, "/srv/x", "/m/a").action == plan9_add_decision::add);
  REQUIRE(add(t, "/srv/x", "/m/a").action == plan9_add_decision::wait_attach);
  REQUIRE(*t.add_succeeded("0") == 2);
  REQUIRE(remove(t, "0").action == plan9_remove_decision::released);
  REQUIRE(remove(t, "0").action == plan9_remove_decision::remove);
  REQUIRE_FALSE(t.remove_failed("0"));
  auto back = t.find("0");
  REQUIRE(back);
  CHECK(back->refs == 1);
  CHECK(back->state == plan9_state::live);
  CHECK(add(t, "/srv/x", "/m/a").action == plan9_add_decision::shared);
  CHECK(t.find("0")->refs == 2);

  auto misuse = t.remove_failed("0");
  CHECK(misuse.code == errc::internal);
  CHECK(misuse.text == "no Plan9 remove in flight for share 0");
  CHECK(t.remove_succeeded("0").code == errc::internal);
  CHECK(t.remove_succeeded("9").code == errc::internal);
}

TEST_CASE("plan9: entries are in numeric name order", "[plan9]") {
  plan9_table t;
  for (int i = 0; i < 12; ++i) {
    REQUIRE(add(t, "/srv/" + std::to_string(i), "/m").action == plan9_add_decision::add);
  }
  auto entries = t.entries();
  REQUIRE(entries.size() == 12);
  for (size_t i = 0; i < entries.size(); ++i) {
    CHECK(entries[i].mount.name == std::to_string(i));
  }
}

namespace {

struct share_spec {
  std::string host_path, uvm_path;
  bool read_only = false, restrict_access = false;
  std::vector<std::string> allowed_files;
};

// Pairs that differ in exactly one field, so identity is tested field by
// field; the last one has no guest path and is refused.
const std::vector<share_spec>& specs() {
  static const std::vector<share_spec> all{
      {"/srv/a", "/m/a", false, false, {}},   {"/srv/b", "/m/a", false, false, {}},
      {"/srv/a", "/m/b", false, false, {}},   {"/srv/a", "/m/a", true, false, {}},
      {"/srv/a", "/m/a", false, true, {}},    {"/srv/a", "/m/a", false, true, {"f"}},
      {"/srv/a", "/m/a", false, true, {"g"}}, {"/srv/a", "/m/a", false, true, {"f", "g"}},
      {"/srv/a", "", false, false, {}},
  };
  return all;
}

struct model_share {
  size_t spec = 0;
  uint32_t refs = 0;
  uint32_t waiters = 0;
  plan9_state state = plan9_state::adding;
};

class plan9_harness {
public:
  explicit plan9_harness(uint32_t seed) : rng_(seed) {}

  void add(size_t spec) {
    const auto& s = specs()[spec];
    auto r =
        table_.begin_add(s.host_path, s.uvm_path, s.read_only, s.restrict_access, s.allowed_files);
    if (s.uvm_path.empty()) {
      REQUIRE_FALSE(r);
      REQUIRE(r.err().code == errc::bad_request);
      ++seen["no uvm path"];
      return;
    }
    REQUIRE(r);
    auto it = std::find_if(model_.begin(), model_.end(),
                           [&](const auto& entry) { return entry.second.spec == spec; });
    if (it == model_.end()) {
      REQUIRE(r->action == plan9_add_decision::add);
      REQUIRE(r->record.mount.name == std::to_string(counter_));
      REQUIRE(r->record.mount.flags == plan9_table::flags_for(s.read_only, s.restrict_access));
      model_[counter_++] = model_share{spec, 0, 0, plan9_state::adding};
      return;
    }
    REQUIRE(r->record.mount.name == std::to_string(it->first));
    auto& e = it->second;
    if (e.state == plan9_state::live) {
      REQUIRE(r->action == plan9_add_decision::shared);
      ++e.refs;
      ++seen["shared"];
    } else if (e.state == plan9_state::adding) {
      REQUIRE(r->action == plan9_add_decision::wait_attach);
      ++e.waiters;
      ++seen["wait attach"];
    } else {
      REQUIRE(r->action == plan9_add_decision::wait);
      parked_adds_.emplace_back(it->first, spec);
      ++seen["add waits remove"];
    }
    REQUIRE(r->record.refs == e.refs);
    REQUIRE(r->record.waiters == e.waiters);
  }

  void remove(uint64_t name) {
    auto r = table_.begin_remove(std::to_string(name));
    auto it = model_.find(name);
    if (it == model_.end() || it->second.state == plan9_state::adding) {
      REQUIRE_FALSE(r);
      REQUIRE(r.err().code == errc::not_attached);
      return;
    }
    REQUIRE(r);
    auto& e = it->second;
    if (e.state == plan9_state::removing) {
      REQUIRE(r->action == plan9_remove_decision::wait);
      parked_removes_.push_back(name);
      ++seen["remove waits remove"];
    } else if (--e.refs > 0) {
      REQUIRE(r->action == plan9_remove_decision::released);
      ++seen["released"];
    } else {
      REQUIRE(r->action == plan9_remove_decision::remove);
      e.state = plan9_state::removing;
    }
    REQUIRE(r->record.refs == e.refs);
  }

  void finish_add(bool ok) {
    auto name = take(plan9_state::adding);
    auto& e = model_.at(name);
    if (ok) {
      REQUIRE(*table_.add_succeeded(std::to_string(name)) == 1 + e.waiters);
      e.refs = 1 + e.waiters;
      e.waiters = 0;
      e.state = plan9_state::live;
    } else {
      REQUIRE(*table_.add_failed(std::to_string(name)) == e.waiters);
      seen["failed add with waiters"] += e.waiters > 0 ? 1 : 0;
      model_.erase(name);
    }
  }

  void finish_remove(bool ok) {
    auto name = take(plan9_state::removing);
    if (ok) {
      REQUIRE_FALSE(table_.remove_succeeded(std::to_string(name)));
      model_.erase(name);
    } else {
      REQUIRE_FALSE(table_.remove_failed(std::to_string(name)));
      auto& e = model_.at(name);
      e.refs = 1;
      e.state = plan9_state::live;
      ++seen["failed remove"];
    }
    // The parked callers ask again, as the header says they must.
    std::vector<size_t> adds;
    for (auto it = parked_adds_.begin(); it != parked_adds_.end();) {
      if (it->first == name) {
        adds.push_back(it->second);
        it = parked_adds_.erase(it);
      } else {
        ++it;
      }
    }
    auto removes = std::count(parked_removes_.begin(), parked_removes_.end(), name);
    parked_removes_.erase(std::remove(parked_removes_.begin(), parked_removes_.end(), name),
                          parked_removes_.end());
    for (long i = 0; i < removes; ++i) {
      remove(name);
    }
    for (auto spec : adds) {
      add(spec);
    }
  }

  // A finisher called on a share that is not in its state.
  void misuse() {
    uint64_t number = pick(static_cast<uint32_t>(counter_ + 2));
    auto name = std::to_string(number);
    auto it = model_.find(number);
    bool adding = it != model_.end() && it->second.state == plan9_state::adding;
    bool removing = it != model_.end() && it->second.state == plan9_state::removing;
    if (!adding) {
      auto r = pick(2) == 0 ? table_.add_succeeded(name) : table_.add_failed(name);
      REQUIRE_FALSE(r);
      REQUIRE(r.err().code == errc::internal);
      REQUIRE(r.err().text == "no Plan9 add in flight for share " + name);
      ++seen["misuse"];
    }
    if (!removing) {
      auto e = pick(2) == 0 ? table_.remove_succeeded(name) : table_.remove_failed(name);
      REQUIRE(e.code == errc::internal);
      REQUIRE(e.text == "no Plan9 remove in flight for share " + name);
    }
  }

  void check() const {
    REQUIRE(table_.counter() == counter_);
    auto entries = table_.entries();
    REQUIRE(entries.size() == model_.size());
    auto json = table_.to_json();
    REQUIRE(json.size() == model_.size());
    size_t i = 0;
    for (const auto& [number, e] : model_) {
      const auto& r = entries[i++];
      const auto& s = specs()[e.spec];
      auto name = std::to_string(number);
      REQUIRE(r.mount.name == name);
      REQUIRE(r.mount.host_path == s.host_path);
      REQUIRE(r.mount.uvm_path == s.uvm_path);
      REQUIRE(r.mount.read_only == s.read_only);
      REQUIRE(r.mount.flags == plan9_table::flags_for(s.read_only, s.restrict_access));
      REQUIRE(r.mount.allowed_files == s.allowed_files);
      REQUIRE(r.refs == e.refs);
      REQUIRE(r.waiters == e.waiters);
      REQUIRE(r.state == e.state);
      REQUIRE(json[name]["refs"] == e.refs);
      REQUIRE(json[name]["waiters"] == e.waiters);
      REQUIRE(json[name]["state"] == uvm::to_string(e.state));
      REQUIRE(bool(table_.find(name)) == (e.state == plan9_state::live));
    }
  }

  void run(int steps) {
    for (int step = 0; step < steps; ++step) {
      bool filling = (step / 500) % 2 == 0;
      int op = static_cast<int>(pick(100));
      if (op < (filling ? 45 : 25)) {
        add(pick(20) == 0 ? specs().size() - 1 : pick(static_cast<uint32_t>(specs().size() - 1)));
      } else if (op < 65) {
        auto held = held_name();
        remove(pick(10) < 8 && held ? *held : pick(static_cast<uint32_t>(counter_ + 2)));
      } else if (op < 80) {
        if (has(plan9_state::adding)) {
          finish_add(pick(4) != 0);
        }
      } else if (op < 97) {
        if (has(plan9_state::removing)) {
          finish_remove(pick(4) != 0);
        }
      } else {
        misuse();
      }
      check();
    }
  }

  void drain() {
    for (;;) {
      if (has(plan9_state::adding)) {
        finish_add(true);
      } else if (has(plan9_state::removing)) {
        finish_remove(true);
      } else if (auto held = held_name()) {
        remove(*held);
      } else {
        break;
      }
      check();
    }
    REQUIRE(table_.entries().empty());
    REQUIRE(parked_adds_.empty());
    REQUIRE(parked_removes_.empty());
  }

  std::map<std::string, int> seen;

private:
  uint32_t pick(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }

  bool has(plan9_state state) const {
    return std::any_of(model_.begin(), model_.end(),
                       [&](const auto& entry) { return entry.second.state == state; });
  }

  uint64_t take(plan9_state state) {
    std::vector<uint64_t> names;
    for (const auto& [number, e] : model_) {
      if (e.state == state) {
        names.push_back(number);
      }
    }
    return names[pick(static_cast<uint32_t>(names.size()))];
  }

  std::optional<uint64_t> held_name() {
    std::vector<uint64_t> held;
    for (const auto& [number, e] : model_) {
      if (e.refs > 0) {
        held.push_back(number);
      }
    }
    if (held.empty()) {
      return std::nullopt;
    }
    return held[pick(static_cast<uint32_t>(held.size()))];
  }

  plan9_table table_;
  std::mt19937 rng_;
  uint64_t counter_ = 0;
  std::map<uint64_t, model_share> model_;                // numeric order, as entries()
  std::vector<std::pair<uint64_t, size_t>> parked_adds_; // share name, spec
  std::vector<uint64_t> parked_removes_;
};

} // namespace

TEST_CASE("plan9: random operations with failures agree with the model", "[plan9]") {
  plan9_harness h{5};
  h.run(20000);
  h.drain();
  for (const char* c :
       {"no uvm path", "shared", "wait attach", "add waits remove", "remove waits remove",
        "released", "failed add with waiters", "failed remove", "misuse"}) {
    INFO(c);
    CHECK(h.seen[c] > 0);
  }
}
