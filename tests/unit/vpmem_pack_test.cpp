// The QEMU backend's VPMEM packs: a sparse file of the device's size, images
// copied to their offsets, ranges that must fit and not overlap.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <unistd.h>

#include "hcs/qemu/vpmem_pack.hpp"

namespace fs = std::filesystem;
using uvm::hcs::qemu::vpmem_pack;

namespace {

constexpr uint64_t mib = 1024 * 1024;

struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("uvm-pack-test-" + std::to_string(::getpid()));
  temp_dir() { fs::create_directories(path); }
  ~temp_dir() { fs::remove_all(path); }
  std::string file(const std::string& name, const std::string& bytes) const {
    auto p = (path / name).string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
};

std::string read_at(const std::string& file, uint64_t offset, size_t n) {
  std::ifstream in(file, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string out(n, '\0');
  in.read(out.data(), static_cast<std::streamsize>(n));
  return out;
}

} // namespace

TEST_CASE("vpmem pack: images land at their offsets of a file of the device size",
          "[vpmem][qemu]") {
  temp_dir dir;
  auto pack = vpmem_pack::create((dir.path / "p.pack").string(), 4 * mib);
  REQUIRE(pack);
  CHECK(fs::file_size(pack->file()) == 4 * mib);
  auto a = dir.file("a", "first layer");
  auto b = dir.file("b", std::string(5000, 'b'));
  REQUIRE_FALSE(pack->place(0, a, 11));
  REQUIRE_FALSE(pack->place(4096, b, 5000));
  CHECK(read_at(pack->file(), 0, 11) == "first layer");
  CHECK(read_at(pack->file(), 4096, 5000) == std::string(5000, 'b'));
  CHECK(read_at(pack->file(), 4096 + 5000, 4) == std::string(4, '\0'));
  CHECK(pack->ranges().size() == 2);
  CHECK(pack->ranges().at(4096) == std::make_pair(uint64_t{9096}, b));
}

TEST_CASE("vpmem pack: ranges stay inside and apart; forgotten ones are reused", "[vpmem][qemu]") {
  temp_dir dir;
  auto pack = vpmem_pack::create((dir.path / "p.pack").string(), 2 * mib);
  REQUIRE(pack);
  auto a = dir.file("a", std::string(8192, 'a'));
  auto c = dir.file("c", std::string(4096, 'c'));
  REQUIRE_FALSE(pack->place(4096, a, 8192));
  auto over = pack->place(8192, c, 4096);
  CHECK(over.text == c + " at offset 8192 overlaps " + a);
  CHECK(pack->place(0, c, 4097).text.find("overlaps " + a) != std::string::npos);
  CHECK_FALSE(pack->place(0, c, 4096)); // touching is fine
  auto outside = pack->place(2 * mib - 4096, a, 8192);
  CHECK(outside.text ==
        a + " (8192 bytes) does not fit at offset 2093056 of a 2097152-byte device");
  auto short_image = pack->place(mib, c, 8192);
  CHECK(short_image.text == "read " + c + ": shorter than 8192 bytes");
  CHECK(pack->place(mib, dir.path.string() + "/none", 1).text.find("open ") == 0);
  REQUIRE(pack->forget(4096));
  CHECK_FALSE(pack->forget(4096));
  REQUIRE_FALSE(pack->place(8192, c, 4096));
  CHECK(read_at(pack->file(), 8192, 4096) == std::string(4096, 'c'));
}
