#include "actors/core/vpmem_allocator.hpp"

namespace uvm {

vpmem_allocator::vpmem_allocator(uint64_t device_size_bytes, uint32_t max_mappings)
    : size_(device_size_bytes), max_mappings_(max_mappings) {}

uint64_t vpmem_allocator::page_align(uint64_t bytes) {
  uint64_t rest = bytes % page_size;
  return rest == 0 ? bytes : bytes + (page_size - rest);
}

std::optional<uint64_t> vpmem_allocator::allocate(uint64_t bytes) {
  // An empty layer still takes a page: every range needs its own offset.
  uint64_t size = page_align(bytes == 0 ? 1 : bytes);
  if (count() >= max_mappings_ || size < bytes || size > size_) {
    return std::nullopt;
  }
  uint64_t start = 0;
  for (const auto& [offset, length] : ranges_) {
    if (offset - start >= size) {
      break;
    }
    start = offset + length;
  }
  if (size_ - start < size) {
    return std::nullopt;
  }
  ranges_.emplace(start, size);
  return start;
}

bool vpmem_allocator::release(uint64_t offset) {
  return ranges_.erase(offset) != 0;
}

} // namespace uvm
