// The backing of one hot-added VPMEM device of the QEMU backend. An HCS
// device takes layers up to the controller's MaximumSizeBytes (later
// hcsshim's multi-mapping adds them at VirtualPMem/Devices/<n>/Mappings/
// <offset>), but QEMU maps one file per device and cannot resize or unplug
// it (notes/qemu.md). So the device maps a *pack*: a sparse file of that
// size in the VM's folder holding the device's image at offset 0 and each
// mapped layer at its offset, copied in. QEMU maps it read-only, so bytes
// copied in later reach the guest through the host's page cache; the guest
// reads a layer through a dm-linear device over its range
// (guest/dm_linear.hpp). A removed range is only forgotten: its bytes stay
// until a layer is copied over them. qemu_hotplug.cpp packs only devices of
// at most 1 GiB.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "messages/errors.hpp"

namespace uvm::hcs::qemu {

class vpmem_pack {
public:
  // Creates (or empties) `file` with `size_bytes`, a multiple of 2 MiB.
  static result<vpmem_pack> create(const std::string& file, uint64_t size_bytes);

  // Copies the first `bytes` of `image` to `offset`: the range must lie in
  // the pack and overlap no other.
  error place(uint64_t offset, const std::string& image, uint64_t bytes);
  // Forgets the range at `offset`; false when none starts there.
  bool forget(uint64_t offset);
  void clear() { ranges_.clear(); }

  const std::string& file() const { return file_; }
  uint64_t size_bytes() const { return size_; }
  // offset -> {end, image}.
  const std::map<uint64_t, std::pair<uint64_t, std::string>>& ranges() const { return ranges_; }

private:
  vpmem_pack(std::string file, uint64_t size) : file_(std::move(file)), size_(size) {}

  std::string file_;
  uint64_t size_;
  std::map<uint64_t, std::pair<uint64_t, std::string>> ranges_;
};

} // namespace uvm::hcs::qemu
