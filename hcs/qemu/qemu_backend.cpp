#include "hcs/qemu/qemu_backend.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <unistd.h>

#include "hcs/go_json.hpp"
#include "hcs/guid.hpp"
#include "hcs/host_path.hpp"
#include "hcs/qemu/pci_layout.hpp"
#include "hcs/qemu/plan9_pool.hpp"
#include "hcs/qemu/qemu_process.hpp"
#include "hcs/qemu/qmp_client.hpp"
#include "hcs/schema.hpp"
#include "hcs/sim/sim_json.hpp"

namespace uvm::hcs::qemu {

namespace {

namespace fs = std::filesystem;
using sim::reject;
using std::chrono::milliseconds;

constexpr uint32_t plan9_read_only = 0x1;

// Jobs run one at a time, in order, on a thread of their own.
class serial_worker {
public:
  serial_worker() : thread_([this] { run(); }) {}
  ~serial_worker() { stop(); }
  void post(std::function<void()> job) {
    std::lock_guard<std::mutex> lock{mutex_};
    jobs_.push_back(std::move(job));
    wake_.notify_one();
  }
  // Runs what is queued, then ends the thread.
  void stop() {
    {
      std::lock_guard<std::mutex> lock{mutex_};
      finish_ = true;
      wake_.notify_one();
    }
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
      thread_.join();
    }
  }

private:
  void run() {
    std::unique_lock<std::mutex> lock{mutex_};
    for (;;) {
      wake_.wait(lock, [&] { return finish_ || !jobs_.empty(); });
      if (jobs_.empty()) {
        return;
      }
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool finish_ = false;
  std::thread thread_;
};

call_result qmp_error(const std::string& what, const error& e) {
  return call_result::failure(hr::fail, what + ": " + e.text);
}

bool has_vhd_footer(const std::string& path, uint64_t size) {
  if (size < 512) {
    return false;
  }
  std::ifstream in{path, std::ios::binary};
  in.seekg(static_cast<std::streamoff>(size - 512));
  char cookie[8] = {};
  in.read(cookie, sizeof cookie);
  return in && std::string(cookie, sizeof cookie) == "conectix";
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) {
      slash = path.size();
    }
    parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

uint32_t index_of(const std::string& text, const char* what) {
  auto n = sim::parse_index(text);
  if (!n) {
    reject(hr::invalid_arg, std::string{"bad "} + what + " \"" + text + "\" in ResourcePath");
  }
  return *n;
}

} // namespace

struct qemu_backend::machine {
  std::string id;
  vm_files files;
  const backend_config* config = nullptr;
  exit_handler on_exit;
  std::string owner;
  std::string runtime_id = new_guid();
  machine_plan plan;
  std::unique_ptr<plan9_pool> plan9;
  qemu_process process;
  std::unique_ptr<qmp_client> qmp;
  bool launched = false;
  bool running = false;
  bool stop_requested = false;
  bool exited = false;
  bool closed = false;
  std::chrono::steady_clock::time_point started_at;
  std::set<std::string> scsi;            // attached "scsi<C>-<L>"
  std::map<uint32_t, std::string> vpmem; // plugged device -> host path
  std::set<uint32_t> vpmem_removed;      // plugged but released
  std::map<std::string, uint32_t> nics;  // NIC GUID -> slot behind the bridge
  serial_worker worker;                  // last: its jobs use the rest

  ~machine() { worker.stop(); }

  void check_alive(const char* op) const {
    if (!launched || exited) {
      reject(exited ? hr::invalid_state : hr::system_not_found,
             "cannot " + std::string{op} + " compute system " + id + ": it is stopped");
    }
  }

  call_result execute(const std::string& command, const nlohmann::json& args) {
    auto r = qmp->execute(command, args, config->qmp_timeout);
    if (!r) {
      return qmp_error(command, r.err());
    }
    return call_result::success();
  }

  // device_del, then the guest's release of the device.
  call_result unplug(const std::string& device_id) {
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

  void launch() {
    std::error_code ec;
    fs::remove_all(files.dir, ec);
    fs::create_directories(files.dir, ec);
    if (ec) {
      reject(hr::fail, "create " + files.dir + ": " + ec.message());
    }
    plan = plan_machine(document_for_launch, config->qemu, files);
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
    if (auto e = process.launch(plan.argv, log)) {
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
      if (auto r = attach_vpmem(device); !r.ok()) {
        reject(r.hresult, r.message);
      }
    }
  }
  std::string document_for_launch;

  // Once per VM: QEMU ended (the QMP connection closed).
  void on_qemu_gone(const std::string& why) {
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
  void stop_qemu() {
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

  call_result attach_scsi(const scsi_attachment& disk) {
    auto id = scsi_id(disk.controller, disk.lun);
    if (disk.controller >= plan.scsi_controllers) {
      return call_result::failure(hr::invalid_arg, "SCSI controller " +
                                                       std::to_string(disk.controller) +
                                                       " is not configured");
    }
    if (scsi.count(id) != 0) {
      return call_result::failure(hr::already_exists,
                                  "SCSI controller " + std::to_string(disk.controller) + " LUN " +
                                      std::to_string(disk.lun) + " is in use");
    }
    // QEMU opens the disk; a missing path or one of the wrong kind is
    // refused here with Go's text rather than QEMU's.
    auto need = block_driver(disk) == "host_device" ? host_path_need::block_device
                                                    : host_path_need::regular_file;
    if (auto file = check_host_path(disk.path, need); !file) {
      return call_result::failure(hr::invalid_arg, "SCSI disk: " + file.err().text);
    }
    auto r = qmp->execute("blockdev-add", scsi_blockdev(disk), config->qmp_timeout);
    if (!r) {
      return qmp_error("attach " + disk.path, r.err());
    }
    auto d = qmp->execute("device_add", scsi_device(disk), config->qmp_timeout);
    if (!d) {
      qmp->execute("blockdev-del", {{"node-name", id}}, config->qmp_timeout);
      return qmp_error("attach " + disk.path, d.err());
    }
    scsi.insert(id);
    return call_result::success();
  }

  call_result detach_scsi(uint32_t controller, uint32_t lun) {
    auto id = scsi_id(controller, lun);
    if (scsi.count(id) == 0) {
      return call_result::failure(hr::element_not_found, "nothing is attached at SCSI controller " +
                                                             std::to_string(controller) + " LUN " +
                                                             std::to_string(lun));
    }
    auto r = unplug(id);
    if (!r.ok()) {
      return r;
    }
    scsi.erase(id);
    auto b = qmp->execute("blockdev-del", {{"node-name", id}}, config->qmp_timeout);
    return b ? call_result::success() : qmp_error("release " + id, b.err());
  }

  call_result attach_vpmem(const vpmem_device& device) {
    auto number = std::to_string(device.number);
    if (device.number >= qemu_layout::vpmem_devices) {
      return call_result::failure(hr::invalid_arg, "VPMEM device " + number +
                                                       ": the qemu backend has " +
                                                       std::to_string(qemu_layout::vpmem_devices) +
                                                       " VPMEM slots per VM (0 to 15)");
    }
    if (auto it = vpmem.find(device.number); it != vpmem.end()) {
      if (vpmem_removed.count(device.number) != 0 && it->second == device.host_path) {
        vpmem_removed.erase(device.number);
        return call_result::success();
      }
      return call_result::failure(
          hr::already_exists,
          "VPMEM device " + number + " still holds " + it->second +
              ": QEMU cannot unplug virtio-pmem devices, so a removed device keeps its slot "
              "(and file) until the VM stops");
    }
    auto image = check_host_path(device.host_path, host_path_need::regular_file);
    if (!image) {
      return call_result::failure(hr::invalid_arg, "VPMEM image: " + image.err().text);
    }
    auto size = image->size_bytes;
    std::string why;
    auto mapped = vpmem_mapped_size(size, has_vhd_footer(device.host_path, size), why);
    if (mapped == 0) {
      return call_result::failure(hr::invalid_arg,
                                  "VPMEM image " + device.host_path + " cannot be mapped: " + why);
    }
    auto r = qmp->execute("object-add", vpmem_backend(device, mapped), config->qmp_timeout);
    if (!r) {
      return qmp_error("map " + device.host_path, r.err());
    }
    auto d = qmp->execute("device_add", vpmem_pci_device(device), config->qmp_timeout);
    if (!d) {
      qmp->execute("object-del", {{"id", vpmem_id(device.number) + "-mem"}}, config->qmp_timeout);
      return qmp_error("plug " + device.host_path, d.err());
    }
    vpmem[device.number] = device.host_path;
    return call_result::success();
  }

  call_result detach_vpmem(uint32_t number) {
    if (vpmem.count(number) == 0 || vpmem_removed.count(number) != 0) {
      return call_result::failure(hr::element_not_found,
                                  "VPMEM device " + std::to_string(number) + " is not attached");
    }
    // The guest has unmounted it; QEMU 7.2 cannot unplug it (see the header).
    vpmem_removed.insert(number);
    return call_result::success();
  }

  call_result add_plan9(const nlohmann::json& settings) {
    auto name = sim::string_member(settings, "Name");
    auto path = sim::string_member(settings, "Path");
    auto flags = static_cast<uint32_t>(sim::uint_member(settings, "Flags"));
    if (!plan.plan9) {
      return call_result::failure(hr::invalid_arg, "the document has no Plan9 device");
    }
    if (plan9->find(name)) {
      return call_result::failure(hr::already_exists, "Plan9 share " + name + " exists");
    }
    if (auto dir = check_host_path(path, host_path_need::directory); !dir) {
      return call_result::failure(hr::invalid_arg, "Plan9 share: " + dir.err().text);
    }
    auto index = plan9->bind(name, path, (flags & plan9_read_only) != 0,
                             sim::strings_member(settings, "AllowedFiles"));
    if (!index) {
      return call_result::failure(hr::fail, index.err().text);
    }
    auto d = qmp->execute("device_add", plan9_device(*index, name), config->qmp_timeout);
    if (!d) {
      plan9->unbind(*index);
      return qmp_error("share " + path, d.err());
    }
    return call_result::success();
  }

  call_result remove_plan9(const nlohmann::json& settings) {
    auto name = sim::string_member(settings, "Name");
    auto index = plan9->find(name);
    if (!index) {
      return call_result::failure(hr::element_not_found, "Plan9 share " + name + " not found");
    }
    auto r = unplug(plan9_id(*index));
    if (!r.ok()) {
      return r;
    }
    plan9->unbind(*index);
    return call_result::success();
  }

  call_result add_nic(const std::string& guid, const nlohmann::json& settings) {
    if (nics.count(guid) != 0) {
      return call_result::failure(hr::already_exists, "network adapter " + guid + " exists");
    }
    uint32_t slot = 0;
    while (slot < qemu_layout::nic_slots &&
           std::any_of(nics.begin(), nics.end(), [&](auto& n) { return n.second == slot; })) {
      ++slot;
    }
    if (slot == qemu_layout::nic_slots) {
      return call_result::failure(hr::fail, "all " + std::to_string(qemu_layout::nic_slots) +
                                                " network adapter slots of this VM are in use");
    }
    auto r = qmp->execute("netdev_add", nic_netdev(slot), config->qmp_timeout);
    if (!r) {
      return qmp_error("network adapter " + guid, r.err());
    }
    auto d =
        qmp->execute("device_add", nic_device(slot, sim::string_member(settings, "MacAddress")),
                     config->qmp_timeout);
    if (!d) {
      qmp->execute("netdev_del", {{"id", nic_id(slot) + "-net"}}, config->qmp_timeout);
      return qmp_error("network adapter " + guid, d.err());
    }
    nics[guid] = slot;
    return call_result::success();
  }

  call_result remove_nic(const std::string& guid) {
    auto it = nics.find(guid);
    if (it == nics.end()) {
      return call_result::failure(hr::element_not_found, "network adapter " + guid + " not found");
    }
    auto slot = it->second;
    auto r = unplug(nic_id(slot));
    if (!r.ok()) {
      return r;
    }
    nics.erase(it);
    auto n = qmp->execute("netdev_del", {{"id", nic_id(slot) + "-net"}}, config->qmp_timeout);
    return n ? call_result::success() : qmp_error("network adapter " + guid, n.err());
  }

  call_result modify(const std::string& text) {
    check_alive("modify");
    auto request = sim::parse_object(text, "request");
    auto path = sim::string_member(request, "ResourcePath");
    auto type = sim::string_member(request, "RequestType");
    const auto* settings_ptr = sim::object_member(request, "Settings");
    auto settings = settings_ptr ? *settings_ptr : nlohmann::json::object();
    bool add = sim::equal_ci(type, "Add");
    if (!add && !sim::equal_ci(type, "Remove")) {
      reject(hr::not_impl, "the qemu backend cannot " + type + " " + path);
    }
    auto parts = split_path(path);
    auto is = [&](size_t i, const char* word) { return i < parts.size() && parts[i] == word; };
    if (is(0, "VirtualMachine") && is(1, "Devices") && parts.size() == 6 && is(2, "Scsi") &&
        is(4, "Attachments")) {
      auto controller = index_of(parts[3], "SCSI controller");
      auto lun = index_of(parts[5], "LUN");
      if (!add) {
        return detach_scsi(controller, lun);
      }
      scsi_attachment disk{controller, lun, sim::string_member(settings, "Path"),
                           sim::string_member(settings, "Type"),
                           sim::bool_member(settings, "ReadOnly")};
      return attach_scsi(disk);
    }
    if (is(0, "VirtualMachine") && is(1, "Devices") && parts.size() == 5 && is(2, "VirtualPMem") &&
        is(3, "Devices")) {
      auto number = index_of(parts[4], "VPMEM device");
      if (!add) {
        return detach_vpmem(number);
      }
      return attach_vpmem(
          {number, sim::string_member(settings, "HostPath"),
           !sim::find_member(settings, "ReadOnly") || sim::bool_member(settings, "ReadOnly")});
    }
    if (is(0, "VirtualMachine") && is(1, "Devices") && parts.size() == 4 &&
        is(2, "NetworkAdapters")) {
      return add ? add_nic(parts[3], settings) : remove_nic(parts[3]);
    }
    if (path == "VirtualMachine/Devices/Plan9/Shares") {
      return add ? add_plan9(settings) : remove_plan9(settings);
    }
    reject(hr::not_impl, "the qemu backend cannot modify " + path +
                             " (it supports SCSI, VPMEM, Plan9 and network adapters)");
  }

  std::string properties(const std::string& query) {
    bool statistics = false, memory = false;
    auto q = sim::parse_object(query.empty() ? "{}" : query, "query");
    for (const auto& t : sim::strings_member(q, "PropertyTypes")) {
      statistics |= sim::equal_ci(t, "Statistics");
      memory |= sim::equal_ci(t, "Memory");
    }
    ojson out;
    out["Id"] = id;
    out["SystemType"] = "VirtualMachine";
    out["Owner"] = owner;
    out["RuntimeId"] = runtime_id;
    out["State"] = exited ? "Stopped" : running ? "Running" : "Created";
    uint64_t memory_mb = 0;
    for (size_t i = 0; i + 1 < plan.argv.size(); ++i) {
      if (plan.argv[i] == "-m") {
        memory_mb = std::stoull(plan.argv[i + 1]);
      }
    }
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
    return go_dump(out);
  }
};

qemu_backend::qemu_backend(backend_config config) : config_(std::move(config)) {
  if (config_.state_root.empty()) {
    config_.state_root =
        (fs::temp_directory_path() / ("uvm-qemu-" + std::to_string(::getpid()))).string();
  }
}

qemu_backend::~qemu_backend() {
  std::map<std::string, std::shared_ptr<machine>> machines;
  std::vector<std::shared_ptr<machine>> closing;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    machines.swap(machines_);
    closing.swap(closing_);
  }
  for (auto& [id, m] : machines) {
    m->worker.post([m = m.get()] {
      m->closed = true;
      if (m->launched && !m->exited) {
        m->stop_qemu();
      }
      if (m->plan9) {
        m->plan9->unbind_all();
      }
    });
    m->worker.stop();
  }
  for (auto& m : closing) {
    m->worker.stop();
  }
  machines.clear();
  closing.clear();
  std::error_code ec;
  fs::remove_all(config_.state_root, ec);
}

std::shared_ptr<qemu_backend::machine> qemu_backend::find(const std::string& id) {
  std::lock_guard<std::mutex> lock{mutex_};
  auto it = machines_.find(id);
  return it == machines_.end() ? nullptr : it->second;
}

void qemu_backend::post(const std::string& id, completion done,
                        std::function<call_result(machine&)> job) {
  auto m = find(id);
  if (!m) {
    // Completions never run inside the caller's call: a short-lived thread
    // answers for a VM that does not exist.
    std::thread([id, done = std::move(done)] {
      done(call_result::failure(hr::system_not_found, "compute system " + id + " does not exist"));
    }).detach();
    return;
  }
  m->worker.post([m = m.get(), job = std::move(job), done = std::move(done)] {
    call_result r;
    try {
      r = job(*m);
    } catch (const sim::rejection& e) {
      r = call_result::failure(e.hresult, e.what());
    } catch (const std::exception& e) {
      r = call_result::failure(hr::fail, e.what());
    }
    done(std::move(r));
  });
}

void qemu_backend::create(const std::string& id, std::string document, exit_handler on_exit,
                          completion done) {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    if (machines_.count(id) == 0) {
      auto m = std::make_shared<machine>();
      m->id = id;
      // A folder per system, not per id: a closed system's cleanup must not
      // touch the next system of that id (a restart).
      m->files.dir = config_.state_root + "/" + id + "." + std::to_string(++systems_);
      m->config = &config_;
      m->on_exit = std::move(on_exit);
      m->document_for_launch = std::move(document);
      machines_[id] = m;
      m->worker.post([this, m = m.get(), done = std::move(done)] {
        call_result r;
        try {
          auto doc = sim::parse_object(m->document_for_launch, "document");
          m->owner = sim::string_member(doc, "Owner");
          m->launch();
        } catch (const sim::rejection& e) {
          r = call_result::failure(e.hresult, e.what());
        }
        if (!r.ok()) {
          // A failed create leaves no system behind.
          m->closed = true;
          if (m->launched && !m->exited) {
            m->stop_qemu();
          }
          std::lock_guard<std::mutex> lock{mutex_};
          if (auto it = machines_.find(m->id); it != machines_.end() && it->second.get() == m) {
            closing_.push_back(it->second);
            machines_.erase(it);
          }
        }
        done(std::move(r));
      });
      return;
    }
  }
  std::thread([id, done = std::move(done)] {
    done(call_result::failure(hr::already_exists, "compute system " + id + " already exists"));
  }).detach();
}

void qemu_backend::start(const std::string& id, completion done) {
  post(id, std::move(done), [](machine& m) {
    m.check_alive("start");
    if (m.running) {
      reject(hr::invalid_state, "cannot start compute system " + m.id + ": it is running");
    }
    auto r = m.execute("cont", nlohmann::json::object());
    if (r.ok()) {
      m.running = true;
      m.started_at = std::chrono::steady_clock::now();
    }
    return r;
  });
}

void qemu_backend::modify(const std::string& id, std::string request, completion done) {
  post(id, std::move(done),
       [request = std::move(request)](machine& m) { return m.modify(request); });
}

void qemu_backend::shutdown(const std::string& id, completion done) {
  post(id, std::move(done), [](machine& m) {
    if (m.exited) {
      return call_result::failure(hr::already_stopped, "compute system " + m.id + " is stopped");
    }
    m.stop_requested = true;
    // The guest's /init powers off on the ACPI power button.
    m.qmp->execute("system_powerdown", nlohmann::json::object(), m.config->qmp_timeout);
    if (!m.process.reap(m.config->shutdown_grace)) {
      m.stop_qemu();
    }
    return call_result::success();
  });
}

void qemu_backend::terminate(const std::string& id, completion done) {
  post(id, std::move(done), [](machine& m) {
    if (m.exited) {
      return call_result::failure(hr::already_stopped, "compute system " + m.id + " is stopped");
    }
    m.stop_qemu();
    return call_result::success();
  });
}

void qemu_backend::properties(const std::string& id, std::string query, completion done) {
  post(id, std::move(done), [query = std::move(query)](machine& m) {
    return call_result::success(m.properties(query));
  });
}

void qemu_backend::close(const std::string& id) {
  std::shared_ptr<machine> m;
  {
    std::lock_guard<std::mutex> lock{mutex_};
    auto it = machines_.find(id);
    if (it == machines_.end()) {
      return;
    }
    m = it->second;
    machines_.erase(it);
    closing_.push_back(m);
  }
  // Closing the last handle ends the system (ShouldTerminateOnLastHandleClosed).
  m->worker.post([m = m.get()] {
    m->closed = true;
    if (m->launched && !m->exited) {
      m->stop_qemu();
    }
    m->qmp.reset();
    if (m->plan9) {
      m->plan9->unbind_all();
    }
    std::error_code ec;
    fs::remove_all(m->files.dir, ec);
  });
}

std::string qemu_backend::guest_connection(const std::string& id) {
  return "qemu:" + state_dir(id);
}

std::string qemu_backend::state_dir(const std::string& id) {
  auto m = find(id);
  return m ? m->files.dir : std::string{};
}

int qemu_backend::pid_of(const std::string& id) {
  auto m = find(id);
  return m ? m->process.pid() : -1;
}

} // namespace uvm::hcs::qemu
