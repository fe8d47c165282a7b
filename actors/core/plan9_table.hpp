// The Plan9 shares of one LCOW utility VM (uvm-api.md §10): host
// directories (or single files) the guest mounts over 9p on vsock port 564.
//
// Words: a *share* is one AddPlan9 call. Its name (and access name) is a
// per-VM counter in decimal ("0", "1", ...), consumed even when the add
// fails. The seed does not ref-count Plan9 and this table keeps that: every
// add is a new share, even for a host path that is already shared, and a
// share is removed by its name. A share is *in flight* while it is being
// added or removed.
//
//   (new name) -> adding -> live -> removing -> gone
//                   \-> (host or guest step failed) -> gone
//   removing -(remove failed)-> live
//
// The record of live shares lets RemovePlan9 of an unknown share say so
// (the seed sent the Remove and let HCS fail) and lets the engine's view be
// compared with the simulator's oracle.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hcs/device_requests.hpp"
#include "messages/errors.hpp"

namespace uvm {

enum class plan9_state : uint8_t { adding, live, removing };

const char* to_string(plan9_state state);

struct plan9_record {
  hcs::plan9_mount mount; // what hcs::plan9_add sends
  plan9_state state = plan9_state::adding;
};

class plan9_table {
public:
  // 0x4 LinuxMetadata, | 0x1 ReadOnly, | 0x80 RestrictFileAccess.
  static int32_t flags_for(bool read_only, bool restrict_access);

  // AddPlan9's bookkeeping (§10.1 steps 3-5). The host-build check for
  // restricted shares is the caller's: it knows the host.
  result<plan9_record> begin_add(const std::string& host_path, const std::string& uvm_path,
                                 bool read_only, bool restrict_access,
                                 std::vector<std::string> allowed_files);
  error add_succeeded(const std::string& name);
  error add_failed(const std::string& name);

  // Only a live share can be removed; anything else is `not attached`.
  result<plan9_record> begin_remove(const std::string& name);
  error remove_succeeded(const std::string& name);
  error remove_failed(const std::string& name);

  uint64_t counter() const { return counter_; }
  // Every share in name (counter) order.
  std::vector<plan9_record> entries() const;
  // name -> {host_path, uvm_path, flags, read_only, allowed_files, state}.
  nlohmann::json to_json() const;

private:
  plan9_record* in_state(const std::string& name, plan9_state state);

  uint64_t counter_ = 0;
  std::map<std::string, plan9_record> by_name_;
};

} // namespace uvm
