#include "hcs/vm_access.hpp"

#include <cerrno>
#include <memory>

#include <acl/libacl.h>
#include <sys/acl.h>

#include "hcs/host_path.hpp"

namespace uvm::hcs {

namespace {

struct acl_deleter {
  void operator()(void* p) const { acl_free(p); }
};
using acl_ptr = std::unique_ptr<struct __acl_ext, acl_deleter>;

acl_tag_t tag_of(acl_who who) {
  return who == acl_who::user ? ACL_USER : ACL_GROUP;
}

error failed(const char* op, const std::string& path, int err) {
  return error{errc::io_failure, std::string{op} + " " + path + ": " + go_errno_text(err)};
}

// The file's entry for `who`/`id`, or null.
acl_entry_t find_entry(acl_t acl, acl_who who, uint32_t id) {
  acl_entry_t e;
  for (int r = acl_get_entry(acl, ACL_FIRST_ENTRY, &e); r == 1;
       r = acl_get_entry(acl, ACL_NEXT_ENTRY, &e)) {
    acl_tag_t tag;
    if (acl_get_tag_type(e, &tag) != 0 || tag != tag_of(who)) {
      continue;
    }
    auto* q = static_cast<uint32_t*>(acl_get_qualifier(e));
    bool match = q != nullptr && *q == id;
    acl_free(q);
    if (match) {
      return e;
    }
  }
  return nullptr;
}

result<acl_ptr> read_acl(const std::string& path) {
  acl_t acl = acl_get_file(path.c_str(), ACL_TYPE_ACCESS);
  if (acl == nullptr) {
    return failed("getfacl", path, errno);
  }
  return acl_ptr{acl};
}

error write_acl(const std::string& path, acl_ptr& acl) {
  acl_t a = acl.get();
  if (acl_calc_mask(&a) != 0) {
    return failed("setfacl", path, errno);
  }
  acl.release();
  acl.reset(a);
  if (acl_set_file(path.c_str(), ACL_TYPE_ACCESS, a) != 0) {
    return failed("setfacl", path, errno);
  }
  return {};
}

} // namespace

result<bool> acl_grant(const std::string& path, acl_who who, uint32_t id, bool write) {
  auto acl = read_acl(path);
  if (!acl) {
    return acl.err();
  }
  acl_entry_t e = find_entry(acl->get(), who, id);
  bool existed = e != nullptr;
  acl_permset_t perms;
  if (!existed) {
    acl_t a = acl->get();
    if (acl_create_entry(&a, &e) != 0) {
      return failed("setfacl", path, errno);
    }
    acl->release();
    acl->reset(a);
    if (acl_set_tag_type(e, tag_of(who)) != 0 || acl_set_qualifier(e, &id) != 0 ||
        acl_get_permset(e, &perms) != 0 || acl_clear_perms(perms) != 0) {
      return failed("setfacl", path, errno);
    }
  } else if (acl_get_permset(e, &perms) != 0) {
    return failed("setfacl", path, errno);
  }
  acl_add_perm(perms, ACL_READ);
  if (write) {
    acl_add_perm(perms, ACL_WRITE);
  }
  if (acl_set_permset(e, perms) != 0) {
    return failed("setfacl", path, errno);
  }
  if (auto err = write_acl(path, *acl)) {
    return err;
  }
  return existed;
}

error acl_revoke(const std::string& path, acl_who who, uint32_t id) {
  auto acl = read_acl(path);
  if (!acl) {
    return acl.err();
  }
  acl_entry_t e = find_entry(acl->get(), who, id);
  if (e == nullptr) {
    return {};
  }
  if (acl_delete_entry(acl->get(), e) != 0) {
    return failed("setfacl", path, errno);
  }
  return write_acl(path, *acl);
}

result<std::string> acl_entry(const std::string& path, acl_who who, uint32_t id) {
  auto acl = read_acl(path);
  if (!acl) {
    return acl.err();
  }
  acl_entry_t e = find_entry(acl->get(), who, id);
  if (e == nullptr) {
    return std::string{};
  }
  acl_permset_t perms;
  if (acl_get_permset(e, &perms) != 0) {
    return failed("getfacl", path, errno);
  }
  std::string out = "---";
  if (acl_get_perm(perms, ACL_READ) == 1) {
    out[0] = 'r';
  }
  if (acl_get_perm(perms, ACL_WRITE) == 1) {
    out[1] = 'w';
  }
  if (acl_get_perm(perms, ACL_EXECUTE) == 1) {
    out[2] = 'x';
  }
  return out;
}

error vm_access_table::grant(const std::string& vm, const std::string& path,
                             const vm_principal& who, vm_access_type type, bool read_only) {
  if (type == vm_access_type::noop) {
    return {};
  }
  key k = type == vm_access_type::individual ? key{path, acl_who::user, who.uid}
                                             : key{path, acl_who::group, who.group};
  std::lock_guard<std::mutex> lock{mutex_};
  auto existed = acl_grant(path, std::get<1>(k), std::get<2>(k), !read_only);
  if (!existed) {
    return existed.err();
  }
  auto [it, fresh] = grants_.try_emplace(k);
  if (fresh) {
    it->second.added = !*existed;
  }
  it->second.holders.insert(vm);
  return {};
}

error vm_access_table::release(const std::string& vm, const std::string& path) {
  std::lock_guard<std::mutex> lock{mutex_};
  return drop(vm, &path);
}

void vm_access_table::release_all(const std::string& vm) {
  std::lock_guard<std::mutex> lock{mutex_};
  // Best effort: a file removed meanwhile has no entry left to clean.
  drop(vm, nullptr);
}

size_t vm_access_table::size() const {
  std::lock_guard<std::mutex> lock{mutex_};
  return grants_.size();
}

error vm_access_table::drop(const std::string& vm, const std::string* path) {
  error first;
  auto it = path ? grants_.lower_bound(key{*path, acl_who::user, 0}) : grants_.begin();
  while (it != grants_.end() && (!path || std::get<0>(it->first) == *path)) {
    auto& g = it->second;
    if (g.holders.erase(vm) == 0 || !g.holders.empty()) {
      ++it;
      continue;
    }
    if (g.added) {
      auto e = acl_revoke(std::get<0>(it->first), std::get<1>(it->first), std::get<2>(it->first));
      if (e && !first) {
        first = std::move(e);
      }
    }
    it = grants_.erase(it);
  }
  return first;
}

} // namespace uvm::hcs
