#include "hcs/qemu/qemu_backend.hpp"

#include <filesystem>

#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "hcs/qemu/qemu_vm.hpp"

namespace uvm::hcs::qemu {

namespace {

namespace fs = std::filesystem;

// The cgroup v2 hierarchy the engine may write: a v2 host's or a hybrid
// host's; empty when there is none.
std::string writable_cgroup2() {
  for (const char* dir : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    struct statfs s {};
    if (::statfs(dir, &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC && ::access(dir, W_OK) == 0) {
      return dir;
    }
  }
  return {};
}

} // namespace

qemu_backend::qemu_backend(backend_config config) : config_(std::move(config)) {
  if (config_.state_root.empty()) {
    config_.state_root =
        (fs::temp_directory_path() / ("uvm-qemu-" + std::to_string(::getpid()))).string();
  }
  if (config_.cgroup_root.empty() && !config_.unconfined_root) {
    if (auto root = writable_cgroup2(); !root.empty()) {
      config_.cgroup_root = root + "/uvm";
    }
  }
}

qemu_backend::~qemu_backend() {
  std::map<std::string, std::shared_ptr<qemu_vm>> machines;
  std::vector<std::shared_ptr<qemu_vm>> closing;
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
      m->leave_cgroup();
    });
    m->worker.stop();
    grants_.release_all(id);
  }
  for (auto& m : closing) {
    m->worker.stop();
  }
  machines.clear();
  closing.clear();
  std::error_code ec;
  fs::remove_all(config_.state_root, ec);
}

std::shared_ptr<qemu_vm> qemu_backend::find(const std::string& id) {
  std::lock_guard<std::mutex> lock{mutex_};
  auto it = machines_.find(id);
  return it == machines_.end() ? nullptr : it->second;
}

void qemu_backend::post(const std::string& id, completion done,
                        std::function<call_result(qemu_vm&)> job) {
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
    } catch (const rejection& e) {
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
      qemu_confinement who;
      if (!config_.unconfined_root) {
        uint32_t uid = config_.uid_base;
        uint32_t end = config_.uid_base + config_.uid_count;
        while (uid < end && uids_.count(uid) != 0) {
          ++uid;
        }
        if (uid >= end || uid == 0) {
          std::thread([id, end, this, done = std::move(done)] {
            done(call_result::failure(hr::fail, "no free uid for compute system " + id + " in [" +
                                                    std::to_string(config_.uid_base) + ", " +
                                                    std::to_string(end) + ")"));
          }).detach();
          return;
        }
        uids_.insert(uid);
        who.uid = uid;
        who.group = config_.vm_group;
      }
      auto m = std::make_shared<qemu_vm>();
      m->confinement = who;
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
          auto doc = parse_object(m->document_for_launch, "document");
          m->owner = string_member(doc, "Owner");
          m->launch();
        } catch (const rejection& e) {
          r = call_result::failure(e.hresult, e.what());
        }
        if (!r.ok()) {
          // A failed create leaves no system behind.
          m->closed = true;
          if (m->launched && !m->exited) {
            m->stop_qemu();
          }
          m->leave_cgroup();
          std::lock_guard<std::mutex> lock{mutex_};
          uids_.erase(m->confinement.uid);
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
  post(id, std::move(done), [](qemu_vm& m) {
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
       [request = std::move(request)](qemu_vm& m) { return m.modify(request); });
}

void qemu_backend::shutdown(const std::string& id, completion done) {
  post(id, std::move(done), [](qemu_vm& m) {
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
  post(id, std::move(done), [](qemu_vm& m) {
    if (m.exited) {
      return call_result::failure(hr::already_stopped, "compute system " + m.id + " is stopped");
    }
    m.stop_qemu();
    return call_result::success();
  });
}

void qemu_backend::properties(const std::string& id, std::string query, completion done) {
  post(id, std::move(done), [query = std::move(query)](qemu_vm& m) {
    return call_result::success(m.properties(query));
  });
}

void qemu_backend::close(const std::string& id) {
  std::shared_ptr<qemu_vm> m;
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
  grants_.release_all(id);
  // Closing the last handle ends the system (ShouldTerminateOnLastHandleClosed).
  m->worker.post([this, m = m.get()] {
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
    m->leave_cgroup();
    // QEMU is gone: its uid may serve the next VM.
    std::lock_guard<std::mutex> lock{mutex_};
    uids_.erase(m->confinement.uid);
  });
}

std::string qemu_backend::grant_vm_access(const std::string& id, const std::string& path,
                                          vm_access_type access, bool read_only) {
  auto who = principal_of(id);
  if (!who) {
    return "compute system " + id + " does not exist";
  }
  if (who->uid == 0) {
    return {};
  }
  return grants_.grant(id, path, *who, access, read_only).text;
}

std::string qemu_backend::release_vm_access(const std::string& id, const std::string& path) {
  return grants_.release(id, path).text;
}

std::optional<vm_principal> qemu_backend::principal_of(const std::string& id) {
  auto m = find(id);
  if (!m) {
    return std::nullopt;
  }
  return vm_principal{m->confinement.uid, m->confinement.group};
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
