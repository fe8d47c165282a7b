// Plan9 shares on QEMU. QEMU cannot create an fsdev at run time, so a VM
// is launched with a pool of fsdevs, each on an empty folder of the VM's
// state directory; adding a share bind-mounts the host folder (or, for a
// restricted share, only its allowed files) onto a free entry's folder
// before the virtio-9p device is plugged. Needs CAP_SYS_ADMIN (root).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hcs/qemu/qemu_machine.hpp"
#include "messages/errors.hpp"

namespace uvm::hcs::qemu {

class plan9_pool {
public:
  plan9_pool(vm_files files, uint32_t size);

  // Creates the entries' folders (before QEMU starts).
  error prepare();
  // Binds the share onto a free entry and returns its index.
  result<uint32_t> bind(const std::string& name, const std::string& host_path, bool read_only,
                        const std::vector<std::string>& allowed_files);
  std::optional<uint32_t> find(const std::string& name) const;
  // Unmounts an entry's binds and frees it.
  void unbind(uint32_t index);
  void unbind_all();

private:
  struct entry {
    std::string name; // empty: free
    std::vector<std::string> mounts;
  };

  vm_files files_;
  std::vector<entry> entries_;
};

} // namespace uvm::hcs::qemu
