// The VSMB share table: path cleaning, share names, Add/Update/ref-only as in
// uvm-api.md §9.1, removal and guest paths, the in-flight states, and random
// operation sequences against a reference model.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "actors/core/vsmb_share_table.hpp"
#include "hcs/device_requests.hpp"

using uvm::errc;
using uvm::vsmb_add_decision;
using uvm::vsmb_remove_decision;
using uvm::vsmb_share_table;
using uvm::vsmb_state;
using uvm::hcs::virtual_smb_share_options;

namespace {

const std::string prefix = R"(\\?\VMSMB\VSMB-{dcc079ae-60ba-4d07-847c-3493609c0870}\)";

virtual_smb_share_options layer_options() {
  virtual_smb_share_options o;
  o.read_only = true;
  o.pseudo_oplocks = true;
  o.take_backup_privilege = true;
  o.cache_io = true;
  o.share_read = true;
  return o;
}

virtual_smb_share_options restricted() {
  virtual_smb_share_options o;
  o.restrict_file_access = true;
  return o;
}

std::string read_vector(const std::string& name) {
  std::ifstream in(std::string(UVM_TEST_VECTORS) + "/" + name, std::ios::binary);
  REQUIRE(in.good());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

} // namespace

TEST_CASE("vsmb: host paths are cleaned like Go's filepath.Clean", "[vsmb]") {
  using uvm::clean_host_path;
  CHECK(clean_host_path(R"(C:\ContainerData\layers\l1)") == R"(C:\ContainerData\layers\l1)");
  CHECK(clean_host_path(R"(C:\a\.\b\..\c\)") == R"(C:\a\c)");
  CHECK(clean_host_path("C:/x//y/") == R"(C:\x\y)");
  CHECK(clean_host_path(R"(C:\..\a)") == R"(C:\a)");
  CHECK(clean_host_path("C:") == "C:.");
  CHECK(clean_host_path(R"(C:\)") == R"(C:\)");
  CHECK(clean_host_path(R"(a\..\..\b)") == R"(..\b)");
  CHECK(clean_host_path(R"(\\server\share)") == R"(\\server\share)");
  CHECK(clean_host_path(R"(\\server)") == R"(\server)"); // no share: not a volume
  CHECK(clean_host_path(R"(\\server\)") == R"(\server)");
  CHECK(clean_host_path(R"(\\?\C:\x\..)") == R"(\\?\C:\)");
  CHECK(clean_host_path(R"(\\.\pipe\x)") == R"(\pipe\x)"); // Go 1.13: no device volumes
  CHECK(clean_host_path(R"(\\server\share\x\..\)") == R"(\\server\share\)");
  CHECK(clean_host_path(R"(C:\Data\MixedCase)") == R"(C:\Data\MixedCase)");
  CHECK(clean_host_path("/srv/a/../b/") == "/srv/b");
  CHECK(clean_host_path("//srv/./x") == "/srv/x");
  CHECK(clean_host_path("") == ".");
  CHECK(clean_host_path(R"(C:\a\b\..\..\..\c)") == R"(C:\c)");
  CHECK(clean_host_path(R"(C:a\..\..)") == "C:..");
  CHECK(clean_host_path("a/../../b") == "../b");
  CHECK(clean_host_path("./") == ".");
  CHECK(clean_host_path("/..") == "/");
  CHECK(uvm::split_host_path(R"(C:\a\b.txt)") ==
        std::make_pair(std::string{R"(C:\a)"}, std::string{"b.txt"}));
  CHECK(uvm::split_host_path(R"(C:\b.txt)") ==
        std::make_pair(std::string{R"(C:\)"}, std::string{"b.txt"}));
  CHECK(uvm::split_host_path("C:/a/./b.txt") ==
        std::make_pair(std::string{R"(C:\a)"}, std::string{"b.txt"}));
  CHECK(uvm::split_host_path("/srv/f") == std::make_pair(std::string{"/srv"}, std::string{"f"}));
  CHECK(uvm::split_host_path("f") == std::make_pair(std::string{"."}, std::string{"f"}));
}

TEST_CASE("vsmb: the first directory share is the vector's Add request", "[vsmb]") {
  vsmb_share_table t{"uvm1"};
  auto d = t.begin_add(R"(C:\ContainerData\layers\l1)", false, layer_options());
  REQUIRE(d.action == vsmb_add_decision::add);
  CHECK(d.share.name == "s1");
  CHECK(d.share.guest_path == prefix + "s1");
  auto request = uvm::hcs::vsmb_add(d.settings);
  CHECK(uvm::hcs::combined_request(request) == read_vector("vsmb-add-wcow.modify.json"));
}

TEST_CASE("vsmb: share names count in lower-case hex, also past failures", "[vsmb]") {
  vsmb_share_table t{"uvm1"};
  std::vector<std::string> names;
  for (int i = 1; i <= 17; ++i) {
    auto d = t.begin_add("C:\\d" + std::to_string(i), false, {});
    names.push_back(d.share.name);
    if (i == 3) {
      REQUIRE(*t.add_failed(d.share.name) == 0);
    }
  }
  CHECK(names[0] == "s1");
  CHECK(names[8] == "s9");
  CHECK(names[9] == "sa");
  CHECK(names[14] == "sf");
  CHECK(names[15] == "s10");
  CHECK(t.counter() == 17);
  // The failed one is gone; a new add of it takes a new name.
  CHECK(t.begin_add(R"(C:\d3)", false, {}).share.name == "s12");
}

TEST_CASE("vsmb: directory add, add, remove, remove", "[vsmb]") {
  vsmb_share_table t{"uvm1"};
  auto first = t.begin_add(R"(C:\layers\l1\)", false, layer_options());
  REQUIRE(first.action == vsmb_add_decision::add);
  CHECK(first.settings.path == R"(C:\layers\l1)");
  REQUIRE(*t.add_succeeded("s1") == 1);
  // An unrestricted share that exists is only ref-counted.
  auto second = t.begin_add("C:/layers/l1", false, layer_options());
  CHECK(second.action == vsmb_add_decision::shared);
  CHECK(second.share.refs == 2);
  CHECK(*t.uvm_path(R"(C:\layers\l1)", false) == prefix + "s1");
  CHECK(t.begin_remove(R"(C:\layers\l1)", false)->action == vsmb_remove_decision::released);
  auto last = t.begin_remove(R"(C:\layers\l1)", false);
  REQUIRE(last);
  CHECK(last->action == vsmb_remove_decision::detach);
  CHECK(last->share.name == "s1");
  CHECK(t.uvm_path(R"(C:\layers\l1)", false).err().code == errc::not_attached);
  REQUIRE_FALSE(t.remove_succeeded("s1"));
  auto gone = t.begin_remove(R"(C:\layers\l1\.)", false);
  REQUIRE_FALSE(gone);
  CHECK(gone.err().code == errc::not_attached);
  CHECK(gone.err().text == R"(C:\layers\l1 is not present as a VSMB share in uvm1, cannot remove)");
}

TEST_CASE("vsmb: files share their directory and accumulate allowed files", "[vsmb]") {
  vsmb_share_table t{"uvm1"};
  auto a = t.begin_add(R"(C:\data\a.txt)", true, {});
  REQUIRE(a.action == vsmb_add_decision::add);
  CHECK(a.share.file_share);
  CHECK(a.settings.path == R"(C:\data)");
  CHECK(a.settings.allowed_files == std::vector<std::string>{R"(C:\data\a.txt)"});
  REQUIRE(a.settings.options);
  CHECK(a.settings.options->restrict_file_access);
  CHECK(a.settings.options->single_file_mapping);
  REQUIRE(*t.add_succeeded(a.share.name) == 1);

  auto b = t.begin_add(R"(C:\data\b.txt)", true, {});
  REQUIRE(b.action == vsmb_add_decision::update);
  CHECK(b.settings.name == "s1");
  CHECK(b.settings.allowed_files ==
        std::vector<std::string>{R"(C:\data\a.txt)", R"(C:\data\b.txt)"});
  CHECK(uvm::hcs::vsmb_update(b.settings).host->find(R"("RequestType":"Update")") !=
        std::string::npos);
  REQUIRE(*t.add_succeeded("s1") == 1);
  // The same file again is appended again (seed quirk); refs are per share.
  auto again = t.begin_add(R"(C:\data\a.txt)", true, {});
  CHECK(again.settings.allowed_files.size() == 3);
  REQUIRE(t.add_succeeded("s1"));
  CHECK(t.entries().at(0).refs == 3);
  CHECK(*t.uvm_path(R"(C:\data\b.txt)", true) == prefix + R"(s1\b.txt)");

  // The directory itself is a different share, in the other table.
  auto dir = t.begin_add(R"(C:\data)", false, {});
  CHECK(dir.action == vsmb_add_decision::add);
  CHECK(dir.share.name == "s2");
  CHECK(t.uvm_path(R"(C:\data)", false).err().code == errc::not_attached); // still attaching
  // A restricted directory add appends an empty file name (seed quirk).
  REQUIRE(t.add_succeeded("s2"));
  CHECK(t.begin_add(R"(C:\data)", false, restricted()).settings.allowed_files ==
        std::vector<std::string>{""});
  CHECK(t.uvm_path("", false).err().text == "no hostPath passed to GetVSMBUvmPath");
}

TEST_CASE("vsmb: in-flight shares make later calls wait", "[vsmb]") {
  vsmb_share_table t{"uvm1"};
  REQUIRE(t.begin_add(R"(C:\d)", false, {}).action == vsmb_add_decision::add);
  CHECK(t.begin_add(R"(C:\d)", false, {}).action == vsmb_add_decision::wait_attach);
  CHECK(t.begin_add(R"(C:\d)", false, restricted()).action == vsmb_add_decision::wait);
  CHECK(t.begin_remove(R"(C:\d)", false).err().code == errc::not_attached);
  CHECK(*t.add_succeeded("s1") == 2);

  // A failed add fails its waiters.
  REQUIRE(t.begin_add(R"(C:\f\x)", true, {}).share.name == "s2");
  REQUIRE(t.begin_add(R"(C:\e)", false, {}).share.name == "s3");
  REQUIRE(t.begin_add(R"(C:\e)", false, {}).action == vsmb_add_decision::wait_attach);
  CHECK(*t.add_failed("s3") == 1);

  // While the allowed files are updated, adds and removes wait; a failed
  // update leaves the share as it was.
  REQUIRE(t.add_succeeded("s2"));
  REQUIRE(t.begin_add(R"(C:\f\y)", true, {}).action == vsmb_add_decision::update);
  CHECK(t.begin_add(R"(C:\f\z)", true, {}).action == vsmb_add_decision::wait);
  CHECK(t.begin_remove(R"(C:\f\x)", true)->action == vsmb_remove_decision::wait);
  CHECK(*t.uvm_path(R"(C:\f\x)", true) == prefix + R"(s2\x)");
  CHECK(*t.add_failed("s2") == 0);
  CHECK(t.entries().at(1).allowed_files == std::vector<std::string>{R"(C:\f\x)"});
  CHECK(t.entries().at(1).refs == 1);

  // While a share is removed, adds and removes wait; a failed removal
  // restores the remover's ref.
  REQUIRE(t.begin_remove(R"(C:\f\x)", true)->action == vsmb_remove_decision::detach);
  CHECK(t.begin_add(R"(C:\f\x)", true, {}).action == vsmb_add_decision::wait);
  CHECK(t.begin_remove(R"(C:\f\x)", true)->action == vsmb_remove_decision::wait);
  REQUIRE_FALSE(t.remove_failed("s2"));
  CHECK(t.entries().at(1).refs == 1);
  CHECK(t.entries().at(1).state == vsmb_state::attached);
  CHECK(t.remove_succeeded("s2").code == errc::internal);
  CHECK(t.add_succeeded("s9").err().code == errc::internal);
  CHECK(t.to_json()["s2"]["allowed_files"][0] == R"(C:\f\x)");
}

namespace {

struct model_share {
  std::string name;
  std::vector<std::string> allowed, pending;
  uint32_t refs = 0;
  uint32_t waiters = 0;
  vsmb_state state = vsmb_state::attaching;
};

using model_key = std::pair<bool, std::string>;

// One add or remove as a caller makes it; parked ones are made again.
struct call {
  bool add = true;
  bool is_file = false;
  std::string path; // as passed
  bool restrict_access = false;
  model_key key;
};

class vsmb_harness {
public:
  explicit vsmb_harness(uint32_t seed) : table_("uvm1"), rng_(seed) {}

  void add(const call& c) {
    virtual_smb_share_options options;
    options.restrict_file_access = c.restrict_access;
    auto d = table_.begin_add(c.path, c.is_file, options);
    bool restrict_access = c.is_file || c.restrict_access;
    std::string file = c.is_file ? c.path : "";
    auto it = model_.find(c.key);
    if (it == model_.end()) {
      auto& s = model_[c.key];
      s.name = "s" + hex(++counter_);
      if (restrict_access) {
        s.pending.push_back(file);
      }
      REQUIRE(d.action == vsmb_add_decision::add);
      REQUIRE(d.share.name == s.name);
      REQUIRE(d.settings.path == c.key.second);
      REQUIRE(d.settings.allowed_files == s.pending);
      REQUIRE(d.settings.options->single_file_mapping == c.is_file);
      in_flight_.push_back(s.name);
      return;
    }
    auto& s = it->second;
    if (s.state == vsmb_state::attached && !restrict_access) {
      REQUIRE(d.action == vsmb_add_decision::shared);
      ++s.refs;
    } else if (s.state == vsmb_state::attached) {
      s.pending = s.allowed;
      s.pending.push_back(file);
      s.state = vsmb_state::updating;
      REQUIRE(d.action == vsmb_add_decision::update);
      REQUIRE(d.settings.allowed_files == s.pending);
      in_flight_.push_back(s.name);
      ++seen["update"];
    } else if (s.state == vsmb_state::attaching && !restrict_access) {
      REQUIRE(d.action == vsmb_add_decision::wait_attach);
      ++s.waiters;
      ++seen["wait attach"];
    } else {
      REQUIRE(d.action == vsmb_add_decision::wait);
      parked_.push_back(c);
      ++seen["add waits"];
    }
  }

  void remove(const call& c) {
    auto r = table_.begin_remove(c.path, c.is_file);
    auto it = model_.find(c.key);
    if (it == model_.end() || it->second.state == vsmb_state::attaching) {
      REQUIRE(r.err().text ==
              c.key.second + " is not present as a VSMB share in uvm1, cannot remove");
      return;
    }
    REQUIRE(r);
    auto& s = it->second;
    if (s.state != vsmb_state::attached) {
      REQUIRE(r->action == vsmb_remove_decision::wait);
      parked_.push_back(c);
      ++seen["remove waits"];
    } else if (--s.refs > 0) {
      REQUIRE(r->action == vsmb_remove_decision::released);
    } else {
      REQUIRE(r->action == vsmb_remove_decision::detach);
      s.state = vsmb_state::detaching;
      in_flight_.push_back(s.name);
    }
  }

  void finish(bool ok) {
    auto i = pick(static_cast<uint32_t>(in_flight_.size()));
    auto name = in_flight_[i];
    in_flight_.erase(in_flight_.begin() + i);
    auto it = std::find_if(model_.begin(), model_.end(),
                           [&](const auto& kv) { return kv.second.name == name; });
    auto key = it->first;
    auto& s = it->second;
    if (s.state == vsmb_state::detaching) {
      if (ok) {
        REQUIRE_FALSE(table_.remove_succeeded(name));
        model_.erase(it);
      } else {
        REQUIRE_FALSE(table_.remove_failed(name));
        s.refs = 1;
        s.state = vsmb_state::attached;
        ++seen["failed remove"];
      }
    } else if (ok) {
      uint32_t granted = s.state == vsmb_state::attaching ? 1 + s.waiters : 1;
      REQUIRE(*table_.add_succeeded(name) == granted);
      s.allowed = s.pending;
      s.refs += granted;
      s.waiters = 0;
      s.state = vsmb_state::attached;
    } else if (s.state == vsmb_state::updating) {
      REQUIRE(*table_.add_failed(name) == 0);
      s.state = vsmb_state::attached;
      ++seen["failed update"];
    } else {
      REQUIRE(*table_.add_failed(name) == s.waiters);
      seen["failed add with waiters"] += s.waiters > 0 ? 1 : 0;
      model_.erase(it);
    }
    std::vector<call> again;
    for (auto p = parked_.begin(); p != parked_.end();) {
      if (p->key == key) {
        again.push_back(*p);
        p = parked_.erase(p);
      } else {
        ++p;
      }
    }
    for (const auto& c : again) {
      c.add ? add(c) : remove(c);
    }
  }

  void check() const {
    auto entries = table_.entries();
    REQUIRE(entries.size() == model_.size());
    for (const auto& share : entries) {
      const auto& s = model_.at({share.file_share, share.host_path});
      REQUIRE(share.name == s.name);
      REQUIRE(share.allowed_files == s.allowed);
      REQUIRE(share.refs == s.refs);
      REQUIRE(share.waiters == s.waiters);
      REQUIRE(share.state == s.state);
      if (!share.file_share) {
        bool live = s.state == vsmb_state::attached || s.state == vsmb_state::updating;
        REQUIRE(bool(table_.uvm_path(share.host_path, false)) == live);
      }
    }
    REQUIRE(table_.counter() == counter_);
  }

  // A random caller: a directory (spelled several ways, sometimes
  // restricted) or a file in one.
  call random_call(bool add) {
    call c;
    c.add = add;
    auto dir = "C:\\d" + std::to_string(pick(5));
    c.is_file = pick(2) == 0;
    if (c.is_file) {
      auto file = "f" + std::to_string(pick(3)) + ".txt";
      c.path = pick(2) == 0 ? dir + "\\" + file : "C:/" + dir.substr(3) + "/" + file;
    } else {
      const std::string spellings[] = {dir, dir + "\\", dir + "\\x\\..", "C:/" + dir.substr(3)};
      c.path = spellings[pick(4)];
      c.restrict_access = pick(8) == 0;
    }
    c.key = {c.is_file, dir};
    return c;
  }

  void run(int steps) {
    for (int step = 0; step < steps; ++step) {
      int op = pick(100);
      if (op < 40) {
        add(random_call(true));
      } else if (op < 65) {
        auto c = random_call(false);
        auto held = held_key();
        if (pick(10) < 8 && held) {
          c.is_file = held->first;
          c.key = *held;
          c.path = held->first ? held->second + "\\f0.txt" : held->second;
        }
        remove(c);
      } else if (!in_flight_.empty()) {
        finish(pick(4) != 0);
      }
      check();
    }
  }

  void drain() {
    while (!in_flight_.empty() || held_key()) {
      if (!in_flight_.empty()) {
        finish(true);
      } else {
        auto k = *held_key();
        remove(call{false, k.first, k.first ? k.second + "\\f0.txt" : k.second, false, k});
      }
      check();
    }
    REQUIRE(table_.entries().empty());
  }

  std::map<std::string, int> seen;

private:
  static std::string hex(uint64_t v) {
    char buf[20];
    std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
    return buf;
  }

  uint32_t pick(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }

  std::optional<model_key> held_key() {
    std::vector<model_key> held;
    for (const auto& [k, s] : model_) {
      if (s.refs > 0) {
        held.push_back(k);
      }
    }
    if (held.empty()) {
      return std::nullopt;
    }
    return held[pick(static_cast<uint32_t>(held.size()))];
  }

  vsmb_share_table table_;
  std::mt19937 rng_;
  uint64_t counter_ = 0;
  std::map<model_key, model_share> model_;
  std::vector<std::string> in_flight_;
  std::vector<call> parked_;
};

} // namespace

TEST_CASE("vsmb: random operations with failures agree with the model", "[vsmb]") {
  vsmb_harness h{99};
  h.run(25000);
  h.drain();
  for (const char* c : {"update", "wait attach", "add waits", "remove waits", "failed remove",
                        "failed update", "failed add with waiters"}) {
    INFO(c);
    CHECK(h.seen[c] > 0);
  }
}
