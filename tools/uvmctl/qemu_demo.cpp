#include "tools/uvmctl/qemu_demo.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "engine/engine.hpp"

namespace uvm::cli {

namespace {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

double ms_since(steady::time_point t0) {
  return std::chrono::duration<double, std::milli>(steady::now() - t0).count();
}

bool run(const std::string& command) {
  return std::system(command.c_str()) == 0;
}

std::string quoted(const fs::path& p) {
  return "'" + p.string() + "'";
}

// The last non-empty line of the VM's serial console.
std::string last_console_line(const fs::path& log) {
  std::ifstream in{log};
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (!line.empty()) {
      last = line;
    }
  }
  return last;
}

// Prints the boot's progress until stopped: the elapsed time every second
// and the console's last line whenever it changes.
class boot_display {
public:
  boot_display(std::ostream& out, fs::path console)
      : out_(out), console_(std::move(console)), t0_(steady::now()), thread_([this] { run(); }) {}
  ~boot_display() { stop(); }
  void stop() {
    done_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
  }

private:
  void run() {
    std::string shown;
    int ticks = 0;
    while (!done_) {
      auto line = last_console_line(console_);
      if (line != shown || ++ticks % 10 == 0) {
        shown = line;
        out_ << "    booting " << std::fixed << std::setprecision(1) << ms_since(t0_) / 1000 << " s"
             << (line.empty() ? "  (kernel starting)" : "  console: " + line) << std::endl;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  std::ostream& out_;
  fs::path console_;
  steady::time_point t0_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

} // namespace

int run_qemu_demo(const qemu_demo_options& opts, std::ostream& out) {
  auto host = detect_host();
  auto boot = opts.boot_files.empty() ? fs::path{host.executable_dir} / "qemu" / "LinuxBootFiles"
                                      : fs::path{opts.boot_files};
  if (!fs::exists(boot / "vmlinux") || !fs::exists(boot / "initrd.img")) {
    out << "uvmctl demo --backend qemu: no boot files in " << boot << " (scripts/boot-files.sh "
        << boot.string() << " build/gcs makes them; scripts/setup.sh test does it too)\n";
    return 1;
  }
  for (const char* tool : {"qemu-system-x86_64", "qemu-img", "mkfs.ext4", "debugfs"}) {
    if (!run(std::string{"command -v "} + tool + " > /dev/null")) {
      out << "uvmctl demo --backend qemu: " << tool << " is not installed\n";
      return 1;
    }
  }
  auto work = opts.work_dir.empty()
                  ? fs::temp_directory_path() / ("uvm-qemu-demo-" + std::to_string(::getpid()))
                  : fs::path{opts.work_dir};
  fs::create_directories(work / "layer");
  fs::create_directories(work / "empty");
  std::ofstream{work / "layer" / "greeting.txt"} << "hello from a read-only layer\n";
  if (!run("mkfs.ext4 -q -F -d " + quoted(work / "layer") + " " + quoted(work / "layer.img") +
           " 4M > /dev/null 2>&1") ||
      !run("mkfs.ext4 -q -F -d " + quoted(work / "empty") + " " + quoted(work / "scratch.raw") +
           " 64M > /dev/null 2>&1") ||
      !run("qemu-img convert -O vhdx " + quoted(work / "scratch.raw") + " " +
           quoted(work / "scratch.vhdx"))) {
    out << "uvmctl demo --backend qemu: could not make the images in " << work << "\n";
    return 1;
  }

  std::vector<std::pair<std::string, double>> timings;
  int status = 0;
  auto fail = [&](const std::string& what, const std::string& why) {
    out << "FAILED: " << what << ": " << why << "\n";
    status = 1;
  };
  {
    engine_config cfg;
    cfg.host = host;
    cfg.backend = "qemu";
    engine eng{cfg};
    auto options = new_default_options_lcow("qemu-demo", "uvmctl", host,
                                            [](const std::string& p) { return fs::exists(p); });
    options.boot_files_path = boot.string();
    options.kernel_file = uncompressed_kernel_file;
    options.common.memory_size_in_mb = 512;
    options.common.processor_count = 1;
    out << "booting one LCOW utility VM under QEMU (TCG) from " << boot.string() << "\n";
    auto t0 = steady::now();
    auto vm = eng.create_lcow(options);
    if (!vm) {
      fail("create", vm.err().text);
    } else {
      timings.emplace_back("create (QEMU launched, paused)", ms_since(t0));
      auto console = fs::path{eng.qemu().state_dir(vm->id())} / "console.log";
      boot_display display{out, console};
      auto t1 = steady::now();
      auto started = vm->start();
      timings.emplace_back("start", ms_since(t1));
      auto caps = started ? result<guest_capabilities_info>{started} : vm->capabilities();
      display.stop();
      if (!caps) {
        fail("boot", caps.err().text);
      } else {
        timings.emplace_back("boot to ready (create to the guest agent's answer)", ms_since(t0));
        out << "the guest agent answered: GCS protocol v" << caps->protocol << "\n";
      }
    }
    if (status == 0) {
      auto t = steady::now();
      // QEMU runs unprivileged: the VM is granted the scratch it writes.
      auto scratch = vm->add_scsi((work / "scratch.vhdx").string(), "/run/scratch", false,
                                  vm_access_type::individual);
      timings.emplace_back("add_scsi VHDX scratch + guest mount", ms_since(t));
      t = steady::now();
      auto layer = vm->add_vpmem((work / "layer.img").string());
      timings.emplace_back("add_vpmem read-only layer + guest mount", ms_since(t));
      if (!scratch || !layer) {
        fail("attach", !scratch ? scratch.err().text : layer.err().text);
      } else {
        out << "scratch disk at " << scratch->uvm_path << " (controller " << scratch->controller
            << ", LUN " << scratch->lun << "), layer at " << *layer << "\n";
        process_parameters params;
        params.command_args = {
            "sh", "-c",
            "cat " + *layer + "/greeting.txt; echo \"written in the guest ($(uname -r))\" > " +
                scratch->uvm_path + "/from-guest.txt; ls -l " + scratch->uvm_path};
        params.create_stdout = true;
        params.create_stderr = true;
        t = steady::now();
        auto p = vm->create_process(params.to_json());
        auto output = p ? p->communicate({}) : result<bridge::process_output>{p.err()};
        auto code = p ? p->wait() : result<uint32_t>{p.err()};
        timings.emplace_back("process in the guest (start, output, exit)", ms_since(t));
        if (!output || !code) {
          fail("process", !output ? output.err().text : code.err().text);
        } else {
          out << "guest process exited " << *code << ", its output:\n" << output->out;
        }
        t = steady::now();
        if (auto e = vm->remove_scsi((work / "scratch.vhdx").string())) {
          fail("remove_scsi", e.text);
        }
        timings.emplace_back("remove_scsi (guest unmount + unplug)", ms_since(t));
      }
      t = steady::now();
      auto e = vm->terminate();
      auto w = vm->wait();
      timings.emplace_back("terminate + wait", ms_since(t));
      if (e || w) {
        fail("terminate", e ? e.text : w.text);
      }
      vm->close();
    }
  }
  if (status == 0) {
    run("qemu-img convert -O raw " + quoted(work / "scratch.vhdx") + " " +
        quoted(work / "scratch.check"));
    out << "on the host, in the scratch VHDX: ";
    out.flush();
    run("debugfs -R 'cat /from-guest.txt' " + quoted(work / "scratch.check") + " 2> /dev/null");
  }
  out << "\ntimings:\n";
  nlohmann::json summary = nlohmann::json::object();
  for (const auto& [step, ms] : timings) {
    out << "  " << std::left << std::setw(52) << step << std::right << std::fixed
        << std::setprecision(1) << std::setw(9) << ms << " ms\n";
    summary[step] = ms;
  }
  if (opts.json) {
    out << nlohmann::json{{"ok", status == 0}, {"timings_ms", summary}}.dump() << "\n";
  }
  if (opts.work_dir.empty()) {
    std::error_code ec;
    fs::remove_all(work, ec);
  }
  return status;
}

} // namespace uvm::cli
