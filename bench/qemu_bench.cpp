#include "bench/qemu_bench.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "engine/engine.hpp"

namespace uvm::bench {

namespace {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

double ms_since(steady::time_point t0) {
  return std::chrono::duration<double, std::milli>(steady::now() - t0).count();
}

// A small ext4 image made from an empty folder (no mount on the host).
std::string make_ext4(const fs::path& dir, const std::string& name, int mib) {
  auto empty = dir / "empty";
  fs::create_directories(empty);
  auto path = (dir / name).string();
  auto cmd = "mkfs.ext4 -q -F -d '" + empty.string() + "' '" + path + "' " + std::to_string(mib) +
             "M > /dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    throw std::runtime_error("mkfs.ext4 failed for " + path);
  }
  return path;
}

template <class T>
T must(result<T> r, const char* what) {
  if (!r) {
    throw std::runtime_error(std::string{what} + ": " + r.err().text);
  }
  return std::move(*r);
}

void must(const error& e, const char* what) {
  if (e) {
    throw std::runtime_error(std::string{what} + ": " + e.text);
  }
}

nlohmann::json summary(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {{"median_ms", v[v.size() / 2]}, {"min_ms", v.front()}, {"max_ms", v.back()}};
}

} // namespace

int qemu_bench(const std::string& boot_files, int runs, bool json) {
  auto work = fs::temp_directory_path() / ("uvm-bench-qemu-" + std::to_string(::getpid()));
  fs::create_directories(work / "share");
  std::map<std::string, std::vector<double>> timings;
  try {
    auto disk = make_ext4(work, "disk.img", 16);
    auto layer = make_ext4(work, "layer.img", 8);
    engine_config cfg;
    cfg.host = detect_host();
    cfg.backend = "qemu";
    engine eng{cfg};
    for (int run = 0; run < runs; ++run) {
      auto opts = new_default_options_lcow("bench-" + std::to_string(run), "uvm-bench", cfg.host,
                                           [](const std::string& p) { return fs::exists(p); });
      opts.boot_files_path = boot_files;
      opts.kernel_file = uncompressed_kernel_file;
      opts.common.memory_size_in_mb = 256;
      opts.common.processor_count = 1;
      auto t0 = steady::now();
      auto vm = must(eng.create_lcow(opts), "create");
      must(vm.start(), "start");
      must(vm.capabilities(), "guest ready");
      timings["boot_to_ready"].push_back(ms_since(t0));

      t0 = steady::now();
      must(vm.add_scsi(disk, "/run/bench-disk", false, vm_access_type::individual), "add_scsi");
      timings["scsi_add_mount"].push_back(ms_since(t0));
      t0 = steady::now();
      must(vm.remove_scsi(disk), "remove_scsi");
      timings["scsi_unmount_remove"].push_back(ms_since(t0));
      t0 = steady::now();
      must(vm.add_vpmem(layer), "add_vpmem");
      timings["vpmem_add_mount"].push_back(ms_since(t0));
      t0 = steady::now();
      must(vm.add_plan9((work / "share").string(), "/run/bench-share", true, false, {}),
           "add_plan9");
      timings["plan9_add_mount"].push_back(ms_since(t0));
      process_parameters params;
      params.command_args = {"true"};
      t0 = steady::now();
      auto p = must(vm.create_process(params.to_json()), "create_process");
      must(p.wait(), "wait for the process");
      p.close();
      timings["process_round_trip"].push_back(ms_since(t0));
      t0 = steady::now();
      must(vm.terminate(), "terminate");
      must(vm.wait(), "wait");
      timings["terminate_and_wait"].push_back(ms_since(t0));
      must(vm.close(), "close");
    }
  } catch (const std::exception& e) {
    std::cerr << "uvm-bench qemu: " << e.what() << "\n";
    fs::remove_all(work);
    return 1;
  }
  fs::remove_all(work);
  nlohmann::json out = {{"bench", "qemu"}, {"runs", runs}, {"accel", "tcg"}};
  for (auto& [name, values] : timings) {
    out[name] = summary(values);
  }
  if (json) {
    std::cout << out.dump() << "\n";
  } else {
    std::cout << "QEMU backend, " << runs << " VMs one after another (TCG):\n";
    for (auto& [name, values] : timings) {
      auto s = summary(values);
      std::cout << "  " << name << ": median " << s["median_ms"].get<double>() << " ms (min "
                << s["min_ms"].get<double>() << ", max " << s["max_ms"].get<double>() << ")\n";
    }
  }
  return 0;
}

} // namespace uvm::bench
