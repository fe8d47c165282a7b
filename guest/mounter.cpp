#include "guest/mounter.hpp"

#include <cerrno>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "guest/dm_linear.hpp"
#include "guest/sysfs_devices.hpp"
#include "messages/qemu_pci_layout.hpp"

namespace uvm::guest {

namespace {

error failure(const std::string& what, int err) {
  return error{errc::io_failure, what + ": " + std::strerror(err)};
}

// mkdir -p.
error make_dirs(const std::string& path) {
  for (auto slash = path.find('/', 1);; slash = path.find('/', slash + 1)) {
    auto dir = path.substr(0, slash);
    struct stat st {};
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return failure("mkdir " + dir, errno);
    }
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return failure("mkdir " + dir, ENOTDIR);
    }
    if (slash == std::string::npos) {
      return {};
    }
  }
}

// Polls `find` until it succeeds or `timeout` passed; the error then says
// what was looked for and what was last missing.
template <class Find>
auto wait_for(std::chrono::milliseconds timeout, const std::string& what, Find find)
    -> decltype(find()) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto found = find();
    if (found || std::chrono::steady_clock::now() >= deadline) {
      if (!found) {
        return error{errc::not_found, what + " did not appear within " +
                                          std::to_string(timeout.count()) +
                                          " ms: " + found.err().text};
      }
      return found;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
}

error mount_fs(const std::string& source, const std::string& target, const char* type,
               unsigned long flags, const std::string& data) {
  if (::mount(source.c_str(), target.c_str(), type, flags, data.c_str()) != 0) {
    return failure("mount " + source + " on " + target + " (" + type +
                       (data.empty() ? "" : ", " + data) + ")",
                   errno);
  }
  return {};
}

// Creates `path`, mounts with `do_mount`, and removes an empty mount point
// again when the mount failed.
template <class Mount>
error mount_at(const std::string& path, Mount do_mount) {
  if (auto e = make_dirs(path)) {
    return e;
  }
  auto e = do_mount();
  if (e) {
    ::rmdir(path.c_str());
  }
  return e;
}

error unmount(const std::string& path) {
  if (::umount2(path.c_str(), 0) != 0) {
    return failure("unmount " + path, errno);
  }
  ::rmdir(path.c_str()); // only when empty; a non-empty directory stays
  return {};
}

// Overlay options separate with ',' and lower layers with ':'.
std::string overlay_escape(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == '\\' || c == ':' || c == ',') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

} // namespace

error mounter::apply(const mount_request& r) const {
  return std::visit(
      [&](const auto& m) -> error {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, no_mount>) {
          return {};
        } else if constexpr (std::is_same_v<T, overlay_mount>) {
          return r.add ? add(m) : unmount(m.root);
        } else if constexpr (std::is_same_v<T, vpmem_mount>) {
          return r.add ? add(m) : remove(m);
        } else {
          return r.add ? add(m) : unmount(m.mount_path);
        }
      },
      r.target);
}

result<std::string> mounter::opened_node(const block_device& disk) const {
  auto node = device_node(disk.name, disk.major, disk.minor);
  if (!node) {
    return node.err();
  }
  int fd = ::open(node->c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return failure("open " + *node, errno);
  }
  ::close(fd);
  return node;
}

result<std::string> mounter::device_node(const std::string& name, uint32_t major,
                                         uint32_t minor) const {
  auto node = opts_.dev + "/" + name;
  struct stat st {};
  if (::stat(node.c_str(), &st) == 0) {
    return node;
  }
  if (::mknod(node.c_str(), S_IFBLK | 0600, makedev(major, minor)) != 0 && errno != EEXIST) {
    return failure("mknod " + node, errno);
  }
  return node;
}

error mounter::add(const scsi_disk_mount& m) const {
  if (m.controller >= qemu_layout::scsi_controllers) {
    return error{errc::bad_request,
                 "SCSI controller " + std::to_string(m.controller) + " does not exist"};
  }
  auto pci = qemu_layout::pci_address(qemu_layout::scsi_slot(m.controller));
  auto node = wait_for(opts_.device_timeout,
                       "SCSI disk " + std::to_string(m.controller) + ":" + std::to_string(m.lun) +
                           " (PCI " + pci + ")",
                       [&]() -> result<std::string> {
                         auto disk = find_scsi_disk(opts_.sysfs, pci, m.lun);
                         return disk ? opened_node(*disk) : disk.err();
                       });
  if (!node) {
    return node.err();
  }
  return mount_at(m.mount_path, [&] {
    return mount_fs(*node, m.mount_path, "ext4", m.read_only ? MS_RDONLY : 0,
                    m.read_only ? "noload" : "");
  });
}

error mounter::add(const vpmem_mount& m) const {
  if (m.device_number >= qemu_layout::vpmem_devices) {
    return error{errc::bad_request,
                 "VPMEM device " + std::to_string(m.device_number) + " does not exist"};
  }
  auto pci = qemu_layout::pci_address(qemu_layout::vpmem_slot(m.device_number));
  block_device disk;
  auto node = wait_for(opts_.device_timeout,
                       "VPMEM device " + std::to_string(m.device_number) + " (PCI " + pci + ")",
                       [&]() -> result<std::string> {
                         auto found = find_pmem_disk(opts_.sysfs, pci);
                         if (!found) {
                           return found.err();
                         }
                         disk = *found;
                         return opened_node(disk);
                       });
  if (!node) {
    return node.err();
  }
  if (m.mapping) {
    return add_packed(m, disk);
  }
  return mount_at(m.mount_path, [&] {
    // DAX needs a file system with page-sized blocks; without it the layer
    // is read through the page cache.
    if (!mount_fs(*node, m.mount_path, "ext4", MS_RDONLY, "noload,dax")) {
      return error{};
    }
    return mount_fs(*node, m.mount_path, "ext4", MS_RDONLY, "noload");
  });
}

std::string mounter::linear_name(const vpmem_mount& m) {
  // The name hcsshim's guest gives the linear target of a packed layer.
  return "dm-linear-pmem" + std::to_string(m.device_number) + "-" +
         std::to_string(m.mapping->offset) + "-" + std::to_string(m.mapping->size_bytes);
}

error mounter::add_packed(const vpmem_mount& m, const block_device& pmem) const {
  auto control = opts_.dev + "/mapper/control";
  auto name = linear_name(m);
  auto linear = dm_linear_create({name, pmem, m.mapping->offset, m.mapping->size_bytes}, control);
  if (!linear) {
    return linear.err();
  }
  auto node = device_node("mapper/" + name, linear->major, linear->minor);
  auto e =
      node ? mount_at(m.mount_path,
                      [&] { return mount_fs(*node, m.mount_path, "ext4", MS_RDONLY, "noload"); })
           : node.err();
  if (e) {
    dm_remove(name, control);
    if (node) {
      ::unlink(node->c_str());
    }
  }
  return e;
}

error mounter::remove(const vpmem_mount& m) const {
  if (auto e = unmount(m.mount_path)) {
    return e;
  }
  if (!m.mapping) {
    return {};
  }
  auto name = linear_name(m);
  if (auto e = dm_remove(name, opts_.dev + "/mapper/control")) {
    return e;
  }
  ::unlink((opts_.dev + "/mapper/" + name).c_str());
  return {};
}

error mounter::add(const plan9_mount& m) const {
  auto device = wait_for(opts_.device_timeout, "Plan9 share '" + m.share_name + "'",
                         [&] { return find_9p_device(opts_.sysfs, m.share_name); });
  if (!device) {
    return device.err();
  }
  return mount_at(m.mount_path, [&] {
    return mount_fs(m.share_name, m.mount_path, "9p", m.read_only ? MS_RDONLY : 0,
                    "trans=virtio,version=9p2000.L");
  });
}

error mounter::add(const overlay_mount& m) const {
  std::string lower;
  for (const auto& layer : m.layers) {
    lower += (lower.empty() ? "" : ":") + overlay_escape(layer);
  }
  std::string data = "lowerdir=" + lower;
  unsigned long flags = 0;
  if (!m.scratch.empty()) {
    for (const auto* dir : {"/upper", "/work"}) {
      if (auto e = make_dirs(m.scratch + dir)) {
        return e;
      }
    }
    data += ",upperdir=" + overlay_escape(m.scratch + "/upper") +
            ",workdir=" + overlay_escape(m.scratch + "/work");
  } else {
    flags = MS_RDONLY;
    if (m.layers.size() == 1) {
      if (auto e = make_dirs(opts_.empty_layer)) {
        return e;
      }
      data += ":" + overlay_escape(opts_.empty_layer);
    }
  }
  return mount_at(m.root, [&] { return mount_fs("overlay", m.root, "overlay", flags, data); });
}

} // namespace uvm::guest
