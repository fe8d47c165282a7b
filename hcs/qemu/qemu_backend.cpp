#include "hcs/qemu/qemu_backend.hpp"

#include <filesystem>

#include <unistd.h>

#include "hcs/qemu/qemu_vm.hpp"

namespace uvm::hcs::qemu {

namespace {

namespace fs = std::filesystem;

} // namespace

qemu_backend::qemu_backend(backend_config config) : config_(std::move(config)) {
  if (config_.state_root.empty()) {
    config_.state_root =
        (fs::temp_directory_path() / ("uvm-qemu-" + std::to_string(::getpid()))).string();
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
      auto m = std::make_shared<qemu_vm>();
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
