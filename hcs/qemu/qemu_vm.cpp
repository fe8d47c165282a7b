#include "hcs/qemu/qemu_vm.hpp"

#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

#include "gojson/go_json.hpp"
#include "hcs/host_path.hpp"
#include "hcs/schema.hpp"
#include "messages/qemu_pci_layout.hpp"

namespace uvm::hcs::qemu {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

call_result qemu_vm::execute(const std::string& command, const nlohmann::json& args) {
  auto r = qmp->execute(command, args, config->qmp_timeout);
  if (!r) {
    return qmp_error(command, r.err());
  }
  return call_result::success();
}

// device_del, then the guest's release of the device.
call_result qemu_vm::unplug(const std::string& device_id) {
  auto mark = qmp->next_event();
  auto r = execute("device_del", {{"id", device_id}});
  if (!r.ok()) {
    return r;
  }
  auto deleted = qmp->wait_event(
      "DEVICE_DELETED", mark,
      [&](const nlohmann::json& d) { return d.value("device", "") == device_id; },
      config->unplug_timeout);
  if (!deleted) {
    return call_result::failure(hr::fail, "the guest did not release " + device_id + ": " +
                                              deleted.err().text);
  }
  return call_result::success();
}

void qemu_vm::launch() {
  std::error_code ec;
  fs::remove_all(files.dir, ec);
  fs::create_directories(files.dir, ec);
  if (ec) {
    reject(hr::fail, "create " + files.dir + ": " + ec.message());
  }
  prepare_confinement();
  plan = plan_machine(document_for_launch, config->qemu, files);
  auto doc = parse_object(document_for_launch, "document");
  topology = read_topology(*object_member(doc, "VirtualMachine"));
  memory_mb = topology.memory_mb;
  for (const char* what : {"kernel", "initrd"}) {
    auto flag = std::string{"-"} + what;
    for (size_t i = 0; i + 1 < plan.argv.size(); ++i) {
      if (plan.argv[i] != flag) {
        continue;
      }
      const auto& path = plan.argv[i + 1];
      auto file = check_host_path(path, host_path_need::regular_file);
      if (!file) {
        reject(hr::invalid_arg, std::string{what} + " file cannot be read: " + file.err().text);
      }
      if (::access(path.c_str(), R_OK) != 0) {
        reject(hr::invalid_arg, std::string{what} + " file cannot be read: open " + path + ": " +
                                    go_errno_text(errno));
      }
    }
  }
  plan9 = std::make_unique<plan9_pool>(files, plan.plan9 ? qemu_layout::plan9_devices : 0);
  if (auto e = plan9->prepare()) {
    reject(hr::fail, e.text);
  }
  auto log = files.dir + "/qemu.log";
  if (auto e = process.launch(plan.argv, log, confinement, confinement_note)) {
    reject(hr::fail, "launch QEMU: " + e.text);
  }
  launched = true;
  auto self = this;
  auto client = qmp_client::connect(
      files.qmp_socket(), config->qmp_timeout, [self] { return self->process.running(); },
      [self](const std::string& why) {
        self->worker.post([self, why] { self->on_qemu_gone(why); });
      });
  if (!client) {
    process.kill();
    exited = true;
    reject(hr::fail, "QEMU did not start: " + client.err().text + " (" + log_tail(log) + ")");
  }
  qmp = std::move(*client);
  for (const auto& disk : plan.boot_disks) {
    if (auto r = attach_scsi(disk); !r.ok()) {
      reject(r.hresult, r.message);
    }
  }
  for (const auto& device : plan.boot_vpmem) {
    if (auto r = attach_vpmem(device, true); !r.ok()) {
      reject(r.hresult, r.message);
    }
  }
}

void qemu_vm::prepare_confinement() {
  if (!confinement.confined()) {
    return;
  }
  // QEMU makes its sockets and console log here.
  if (::chown(files.dir.c_str(), confinement.uid, confinement.group) != 0) {
    reject(hr::fail, "chown " + files.dir + ": " + go_errno_text(errno));
  }
  if (config->cgroup_root.empty()) {
    confinement_note = "no writable cgroup v2 hierarchy (/sys/fs/cgroup, /sys/fs/cgroup/unified): "
                       "QEMU stays in the engine's cgroup";
    return;
  }
  // Engines side by side number their systems alike: the pid tells theirs apart.
  auto dir = config->cgroup_root + "/" + std::to_string(::getpid()) + "-" +
             fs::path{files.dir}.filename().string();
  for (const auto& d : {config->cgroup_root, dir}) {
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
      confinement_note =
          "mkdir " + d + ": " + go_errno_text(errno) + ": QEMU stays in the engine's cgroup";
      return;
    }
  }
  confinement.cgroup = dir;
}

void qemu_vm::leave_cgroup() {
  if (!confinement.cgroup.empty() && ::rmdir(confinement.cgroup.c_str()) == 0) {
    confinement.cgroup.clear();
  }
}

// Once per VM: QEMU ended (the QMP connection closed).
void qemu_vm::on_qemu_gone(const std::string& why) {
  if (!process.reap(milliseconds(5000))) {
    process.kill();
  }
  bool report = !exited && !closed;
  exited = true;
  running = false;
  if (plan9) {
    plan9->unbind_all();
  }
  if (!report || !on_exit) {
    return;
  }
  exit_info info;
  if (!stop_requested) {
    info.hresult = hr::unexpected_exit;
    auto tail = log_tail(files.dir + "/qemu.log");
    info.message = "QEMU exited on its own (" + process.how_it_ended() + "; " + why + ")" +
                   (tail.empty() ? "" : ": " + tail);
  }
  on_exit(std::move(info));
}

// Quits QEMU (it flushes its disks first), killing it when it hangs.
// QEMU exits 0 after our quit; killed by a signal or gone before we
// asked, it ended on its own, even if the caller (e.g. the engine after
// losing the guest) asks for a stop now.
void qemu_vm::stop_qemu() {
  bool asked = qmp && !qmp->closed() && process.running();
  if (asked) {
    qmp->execute("quit", nlohmann::json::object(), milliseconds(5000));
  }
  if (!process.reap(milliseconds(5000))) {
    process.kill();
    stop_requested = true;
    return;
  }
  if (asked && process.how_it_ended() == "exit status 0") {
    stop_requested = true;
  }
}

std::string qemu_vm::properties(const std::string& query) {
  bool statistics = false, memory = false;
  auto q = parse_object(query.empty() ? "{}" : query, "query");
  for (const auto& t : strings_member(q, "PropertyTypes")) {
    statistics |= equal_ci(t, "Statistics");
    memory |= equal_ci(t, "Memory");
  }
  ojson out;
  out["Id"] = id;
  out["SystemType"] = "VirtualMachine";
  out["Owner"] = owner;
  out["RuntimeId"] = runtime_id;
  out["State"] = exited ? "Stopped" : running ? "Running" : "Created";
  if (memory) {
    out["Memory"] = {{"VirtualNodeCount", 1},
                     {"VirtualMachineMemory",
                      {{"AvailableMemory", memory_mb}, {"AssignedMemory", memory_mb * 256}}}};
  }
  if (statistics) {
    // QEMU's own CPU time and resident memory stand for the VM's.
    uint64_t user = 0, kernel = 0, rss = 0;
    std::ifstream stat{"/proc/" + std::to_string(process.pid()) + "/stat"};
    std::string line;
    if (std::getline(stat, line) && line.rfind(')') != std::string::npos) {
      std::istringstream fields{line.substr(line.rfind(')') + 2)};
      std::string f;
      for (int i = 3; i <= 15 && fields >> f; ++i) {
        if (i == 14) {
          user = std::stoull(f);
        } else if (i == 15) {
          kernel = std::stoull(f);
        }
      }
    }
    std::ifstream statm{"/proc/" + std::to_string(process.pid()) + "/statm"};
    uint64_t pages = 0;
    statm >> pages >> rss;
    auto tick = 10000000ull / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
    rss *= static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    auto uptime = running ? std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now() - started_at)
                                    .count() /
                                100
                          : 0;
    out["Statistics"] = {{"Uptime100ns", uptime},
                         {"Processor",
                          {{"TotalRuntime100ns", (user + kernel) * tick},
                           {"RuntimeUser100ns", user * tick},
                           {"RuntimeKernel100ns", kernel * tick}}},
                         {"Memory",
                          {{"MemoryUsageCommitBytes", rss},
                           {"MemoryUsageCommitPeakBytes", rss},
                           {"MemoryUsagePrivateWorkingSetBytes", rss}}}};
  }
  return gojson::go_dump(out);
}

} // namespace uvm::hcs::qemu
