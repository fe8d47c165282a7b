#include "actors/core/vsmb_share_table.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "hcs/device_requests.hpp"

namespace uvm {

namespace {

bool has_drive(const std::string& path) {
  return path.size() >= 2 && path[1] == ':' && std::isalpha(static_cast<unsigned char>(path[0]));
}

// Windows-style: a drive letter or a backslash.
struct path_style {
  explicit path_style(const std::string& path)
      : windows(has_drive(path) || path.find('\\') != std::string::npos) {}
  bool windows;
  bool is_sep(char c) const { return c == '/' || (windows && c == '\\'); }
  char sep() const { return windows ? '\\' : '/'; }
};

// Go's volumeNameLen: "C:", or "\\server\share" of a UNC path.
size_t volume_length(const std::string& path, path_style style) {
  if (!style.windows) {
    return 0;
  }
  if (has_drive(path)) {
    return 2;
  }
  size_t n = path.size();
  if (n < 5 || !style.is_sep(path[0]) || !style.is_sep(path[1]) || style.is_sep(path[2]) ||
      path[2] == '.') {
    return 0;
  }
  // The server name ends before the last character; a share name follows.
  size_t server_end = path.find_first_of("\\/", 3);
  if (server_end >= n - 1 || style.is_sep(path[server_end + 1]) || path[server_end + 1] == '.') {
    return 0;
  }
  return std::min(path.find_first_of("\\/", server_end + 1), n);
}

std::string from_slash(std::string path, path_style style) {
  std::replace(path.begin(), path.end(), '/', style.sep());
  return path;
}

// Go's Clean of the part after the volume.
std::string clean_tail(const std::string& path, path_style style) {
  bool rooted = !path.empty() && style.is_sep(path[0]);
  std::string out;
  size_t dotdot = 0; // where ".." can no longer back up
  if (rooted) {
    out.push_back(style.sep());
    dotdot = 1;
  }
  size_t r = 0;
  size_t n = path.size();
  while (r < n) {
    bool next_ends = r + 1 == n || style.is_sep(path[r + 1]);
    if (style.is_sep(path[r]) || (path[r] == '.' && next_ends)) {
      ++r; // an empty or "." element
    } else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || style.is_sep(path[r + 2]))) {
      r += 2;
      if (out.size() > dotdot) {
        // Back up to the last separator, dropping it too.
        size_t w = out.size() - 1;
        while (w > dotdot && !style.is_sep(out[w])) {
          --w;
        }
        out.resize(w);
      } else if (!rooted) {
        if (!out.empty()) {
          out.push_back(style.sep());
        }
        out += "..";
        dotdot = out.size();
      }
    } else {
      if (out.size() != (rooted ? 1u : 0u)) {
        out.push_back(style.sep());
      }
      for (; r < n && !style.is_sep(path[r]); ++r) {
        out.push_back(path[r]);
      }
    }
  }
  return out.empty() ? "." : out;
}

std::string hex(uint64_t value) {
  char buf[16];
  return {buf, std::to_chars(buf, buf + sizeof buf, value, 16).ptr};
}

error not_in_flight(const std::string& name) {
  return error{errc::internal, "no VSMB operation in flight for share " + name};
}

} // namespace

std::string clean_host_path(const std::string& path) {
  path_style style{path};
  size_t vol = volume_length(path, style);
  std::string tail = path.substr(vol);
  if (tail.empty()) {
    // A bare UNC volume stays as it is; "C:" becomes "C:.".
    return vol > 2 ? from_slash(path, style) : path + ".";
  }
  return from_slash(path.substr(0, vol) + clean_tail(tail, style), style);
}

std::pair<std::string, std::string> split_host_path(const std::string& path) {
  path_style style{path};
  size_t vol = volume_length(path, style);
  size_t i = path.size();
  while (i > vol && !style.is_sep(path[i - 1])) {
    --i;
  }
  std::string dir = clean_tail(path.substr(vol, i - vol), style);
  std::string volume = path.substr(0, vol);
  dir = dir == "." && vol > 2 ? volume : volume + dir;
  return {from_slash(dir, style), path.substr(i)};
}

const char* to_string(vsmb_state state) {
  switch (state) {
  case vsmb_state::attaching:
    return "attaching";
  case vsmb_state::attached:
    return "attached";
  case vsmb_state::updating:
    return "updating";
  case vsmb_state::detaching:
    return "detaching";
  }
  return "unknown";
}

vsmb_add_decision vsmb_share_table::begin_add(const std::string& host_path, bool is_file,
                                              hcs::virtual_smb_share_options options) {
  std::string file = is_file ? host_path : "";
  if (is_file) {
    options.restrict_file_access = true;
    options.single_file_mapping = true;
  }
  key k = key_of(host_path, is_file);
  auto known = names_.find(k);
  if (known == names_.end()) {
    auto name = "s" + hex(++counter_);
    entry fresh;
    fresh.share.name = name;
    fresh.share.host_path = k.second;
    fresh.share.guest_path = hcs::vsmb_share_prefix + name;
    fresh.share.file_share = is_file;
    fresh.share.options = options;
    if (options.restrict_file_access) {
      fresh.pending_allowed.push_back(file);
    }
    names_.emplace(k, fresh.share.name);
    auto& e = by_name_.emplace(fresh.share.name, std::move(fresh)).first->second;
    return {vsmb_add_decision::add, e.share,
            hcs::virtual_smb_share{e.share.name, e.share.host_path, e.pending_allowed, options}};
  }
  auto& e = by_name_.at(known->second);
  auto& share = e.share;
  if (share.state == vsmb_state::attached && !options.restrict_file_access) {
    // An Update is only valid for restricted shares: just take a ref.
    ++share.refs;
    return {vsmb_add_decision::shared, share, {}};
  }
  if (share.state == vsmb_state::attached) {
    e.pending_allowed = share.allowed_files;
    e.pending_allowed.push_back(file);
    share.state = vsmb_state::updating;
    return {vsmb_add_decision::update, share,
            hcs::virtual_smb_share{share.name, share.host_path, e.pending_allowed, options}};
  }
  if (share.state == vsmb_state::attaching && !options.restrict_file_access) {
    ++share.waiters;
    return {vsmb_add_decision::wait_attach, share, {}};
  }
  return {vsmb_add_decision::wait, share, {}};
}

result<uint32_t> vsmb_share_table::add_succeeded(const std::string& name) {
  auto* e = in_flight(name);
  if (e == nullptr || e->share.state == vsmb_state::detaching) {
    return not_in_flight(name);
  }
  auto& share = e->share;
  uint32_t granted = share.state == vsmb_state::attaching ? 1 + share.waiters : 1;
  share.allowed_files = std::move(e->pending_allowed);
  share.refs += granted;
  share.waiters = 0;
  share.state = vsmb_state::attached;
  return granted;
}

result<uint32_t> vsmb_share_table::add_failed(const std::string& name) {
  auto* e = in_flight(name);
  if (e == nullptr || e->share.state == vsmb_state::detaching) {
    return not_in_flight(name);
  }
  if (e->share.state == vsmb_state::updating) {
    e->share.state = vsmb_state::attached;
    return 0u;
  }
  uint32_t waiters = e->share.waiters;
  names_.erase(key{e->share.file_share, e->share.host_path});
  by_name_.erase(name);
  return waiters;
}

result<vsmb_remove_decision> vsmb_share_table::begin_remove(const std::string& host_path,
                                                            bool is_file) {
  key k = key_of(host_path, is_file);
  auto known = names_.find(k);
  if (known == names_.end() || by_name_.at(known->second).share.state == vsmb_state::attaching) {
    return error{errc::not_attached,
                 k.second + " is not present as a VSMB share in " + vm_id_ + ", cannot remove"};
  }
  auto& share = by_name_.at(known->second).share;
  if (share.state != vsmb_state::attached) {
    return vsmb_remove_decision{vsmb_remove_decision::wait, share};
  }
  if (--share.refs > 0) {
    return vsmb_remove_decision{vsmb_remove_decision::released, share};
  }
  share.state = vsmb_state::detaching;
  return vsmb_remove_decision{vsmb_remove_decision::detach, share};
}

error vsmb_share_table::remove_succeeded(const std::string& name) {
  auto* e = in_flight(name);
  if (e == nullptr || e->share.state != vsmb_state::detaching) {
    return not_in_flight(name);
  }
  names_.erase(key{e->share.file_share, e->share.host_path});
  by_name_.erase(name);
  return {};
}

error vsmb_share_table::remove_failed(const std::string& name) {
  auto* e = in_flight(name);
  if (e == nullptr || e->share.state != vsmb_state::detaching) {
    return not_in_flight(name);
  }
  e->share.refs = 1;
  e->share.state = vsmb_state::attached;
  return {};
}

result<std::string> vsmb_share_table::uvm_path(const std::string& host_path, bool is_file) const {
  if (host_path.empty()) {
    return error{errc::bad_request, "no hostPath passed to GetVSMBUvmPath"};
  }
  auto known = names_.find(key_of(host_path, is_file));
  const auto* e = known == names_.end() ? nullptr : &by_name_.at(known->second);
  if (e == nullptr || e->share.state == vsmb_state::attaching ||
      e->share.state == vsmb_state::detaching) {
    return error{errc::not_attached};
  }
  const auto& share = e->share;
  std::string file = is_file ? split_host_path(host_path).second : "";
  return file.empty() ? share.guest_path : share.guest_path + "\\" + file;
}

std::vector<vsmb_share> vsmb_share_table::entries() const {
  std::vector<vsmb_share> out;
  out.reserve(names_.size());
  for (const auto& [k, name] : names_) {
    out.push_back(by_name_.at(name).share);
  }
  return out;
}

nlohmann::json vsmb_share_table::to_json() const {
  auto out = nlohmann::json::object();
  for (const auto& [name, e] : by_name_) {
    const auto& share = e.share;
    out[name] = {{"host_path", share.host_path},
                 {"guest_path", share.guest_path},
                 {"file_share", share.file_share},
                 {"allowed_files", share.allowed_files},
                 {"refs", share.refs},
                 {"waiters", share.waiters},
                 {"state", to_string(share.state)}};
  }
  return out;
}

vsmb_share_table::key vsmb_share_table::key_of(const std::string& host_path, bool is_file) {
  return {is_file, is_file ? split_host_path(host_path).first : clean_host_path(host_path)};
}

vsmb_share_table::entry* vsmb_share_table::in_flight(const std::string& name) {
  auto it = by_name_.find(name);
  if (it == by_name_.end() || it->second.share.state == vsmb_state::attached) {
    return nullptr;
  }
  return &it->second;
}

} // namespace uvm
