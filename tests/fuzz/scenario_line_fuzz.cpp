// libFuzzer target for what `uvmctl run` reads before the engine sees it:
// the input is a scenario (lines of bounded length), each line goes through
// the line checks and then through every argument reader the ops use, the
// options and restart policy included. No input may crash, throw, or yield
// an error text that is not UTF-8; an integer a reader accepts is exactly
// the JSON value (nothing wraps), and one it refuses is outside its range.
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tools/uvmctl/options_json.hpp"
#include "tools/uvmctl/scenario_args.hpp"
#include "tools/uvmctl/scenario_line.hpp"

using nlohmann::json;
using namespace uvm;
using namespace uvm::cli;

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

// A small limit, so that the fuzzer reaches it.
constexpr size_t max_line = 2048;

void check_error(const error& e) {
  check(e.code == errc::bad_request);
  check(!e.text.empty());
  json(e.text).dump(); // throws (and so fails) on text that is not UTF-8
}

template <class T>
void check_result(const result<T>& r) {
  if (!r) {
    check_error(r.err());
  }
}

// integer_within<Int> against a wide comparison of its own.
template <class Int>
void check_integer(const json& v) {
  Int out{};
  bool accepted =
      integer_within<Int>(v, std::numeric_limits<Int>::min(), std::numeric_limits<Int>::max(), out);
  bool fits = false;
  if (v.is_number_unsigned()) {
    fits = static_cast<__int128>(v.get<uint64_t>()) <= std::numeric_limits<Int>::max();
  } else if (v.is_number_integer()) {
    // Written with a minus sign, "-0" included, which Go's decoder refuses
    // for an unsigned field (strconv.ParseUint) and takes for a signed one.
    auto s = static_cast<__int128>(v.get<int64_t>());
    fits = std::numeric_limits<Int>::is_signed && s >= std::numeric_limits<Int>::min() &&
           s <= std::numeric_limits<Int>::max();
  }
  check(accepted == fits);
  if (accepted) {
    check(json(out) == v);
  }
}

host_info fuzz_host() {
  host_info host;
  host.executable_name = "uvmctl";
  host.executable_dir = "/opt/uvm";
  return host;
}

bool exists_if_short(const std::string& path) {
  return path.size() % 2 == 0;
}

// The options' integer fields and where they are stored.
void check_lcow_integers(const json& in, const options_lcow& o) {
  const std::pair<const char*, json> stored[] = {
      {"MemorySizeInMB", o.common.memory_size_in_mb},
      {"LowMMIOGapInMB", o.common.low_mmio_gap_in_mb},
      {"HighMMIOBaseInMB", o.common.high_mmio_base_in_mb},
      {"HighMMIOGapInMB", o.common.high_mmio_gap_in_mb},
      {"ProcessorCount", o.common.processor_count},
      {"ProcessorLimit", o.common.processor_limit},
      {"ProcessorWeight", o.common.processor_weight},
      {"StorageQoSIopsMaximum", o.common.storage_qos_iops_maximum},
      {"StorageQoSBandwidthMaximum", o.common.storage_qos_bandwidth_maximum},
      {"SCSIControllerCount", o.scsi_controller_count},
      {"VPMemDeviceCount", o.vpmem_device_count},
      {"VPMemSizeBytes", o.vpmem_size_bytes},
      {"PreferredRootFSType", static_cast<int32_t>(o.preferred_root_fs_type)},
  };
  for (const auto& [name, value] : stored) {
    auto i = in.find(name);
    if (i != in.end() && !i->is_null()) {
      check(*i == value);
    }
  }
}

void check_line(const json& line) {
  if (auto e = check_line_members(line)) {
    check_error(e);
  }
  for (const auto& member : line) {
    check_integer<uint8_t>(member);
    check_integer<uint16_t>(member);
    check_integer<int32_t>(member);
    check_integer<uint32_t>(member);
    check_integer<int64_t>(member);
    check_integer<uint64_t>(member);
  }
  json options = line.contains("options") ? line["options"] : json(nullptr);
  auto lcow = lcow_options_from_json(options, fuzz_host(), exists_if_short);
  check_result(lcow);
  if (lcow && options.is_object()) {
    check_lcow_integers(options, *lcow);
  }
  check_result(wcow_options_from_json(options, fuzz_host()));
  check_result(
      restart_policy_from_json(line.contains("restart_policy") ? line["restart_policy"] : json()));
  check_result(vm_access_of(line));
  check_result(call_of(line));
  check_result(sim_fail_of(line));
  check_result(sim_crash_of(line));
  check_result(latency_of(line));
  check_result(vsmb_options_of(line));
  check_result(endpoints_of(line));
  check_result(vpci_device_of(line));
  check_result(wcow_layers_of(line));
  check_result(plan9_share_of(line));
  check_result(pipe_mount_of(line));
  check_result(container_settings(line));
  auto process = process_args_of(line);
  check_result(process);
  if (process) {
    process->params.to_json();
  }
  check_result(process_name_of(line));
  field_reader args{line};
  duration_ms(args, "ms", std::chrono::milliseconds{0});
  args.integer<int32_t>("signal", 0);
  args.integer<uint32_t>("count", 1);
  args.text("host_path");
  args.flag("read_only");
  args.texts("layer_paths");
  if (args.err()) {
    check_error(args.err());
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  line_reader lines{in, max_line};
  std::string text;
  size_t count = 0;
  for (auto st = lines.next(text); st != line_reader::status::end; st = lines.next(text)) {
    check(lines.number() == ++count);
    if (st == line_reader::status::too_long) {
      check(lines.length() > max_line);
      check(text.empty());
      continue;
    }
    check(text.size() == lines.length() && text.size() <= max_line);
    if (blank_line(text)) {
      continue;
    }
    auto line = parse_scenario_line(text);
    if (!line) {
      check_error(line.err());
      continue;
    }
    check(line->is_object());
    check_line(*line);
  }
  return 0;
}
