// Where packed layers sit inside one VPMEM device (later hcsshim's
// vpmem_mapped.go): ranges of a device of fixed size, page-aligned, at the
// lowest offset that fits, at most max_mappings of them.
//
// Words: a *range* is [offset, offset + size) of the device, held by one
// layer; sizes are rounded up to whole pages.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

namespace uvm {

class vpmem_allocator {
public:
  static constexpr uint64_t page_size = 0x1000;
  // hcsshim's MaxMappedDeviceCount.
  static constexpr uint32_t default_max_mappings = 1024;

  explicit vpmem_allocator(uint64_t device_size_bytes = 0,
                           uint32_t max_mappings = default_max_mappings);

  static uint64_t page_align(uint64_t bytes);

  // The offset of a new range of page_align(bytes), or nothing when no gap
  // is large enough or the device holds max_mappings ranges already.
  std::optional<uint64_t> allocate(uint64_t bytes);
  // False when no range starts at `offset`.
  bool release(uint64_t offset);

  uint64_t device_size_bytes() const { return size_; }
  uint32_t count() const { return static_cast<uint32_t>(ranges_.size()); }
  // offset -> size, in offset order.
  const std::map<uint64_t, uint64_t>& ranges() const { return ranges_; }

private:
  uint64_t size_;
  uint32_t max_mappings_;
  std::map<uint64_t, uint64_t> ranges_;
};

} // namespace uvm
