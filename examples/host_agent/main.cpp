// host_agent: what a host agent does with the engine, in one program. It
// embeds the engine (or, with --node, drives a uvmd node through the same
// API), follows the event bus, creates and starts an LCOW utility VM on the
// simulated HCS, attaches a SCSI disk, runs a process in the guest, then
// has the simulator crash the VM and waits for the vm_exited event the
// crash publishes. Exit 0 when every step happened, 1 otherwise.
//
//   host_agent [--node HOST:PORT (--cert C --key K --ca CA | --insecure-plaintext)]
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <unistd.h>

#include "engine/engine.hpp"

namespace {

// The exits the bus announced, by VM id.
struct exit_box {
  std::mutex mutex;
  std::condition_variable arrived;
  std::map<std::string, uvm::vm_exited_event> exits;

  bool wait_for(const std::string& vm_id, std::chrono::seconds limit, uvm::vm_exited_event& out) {
    std::unique_lock<std::mutex> lock{mutex};
    if (!arrived.wait_for(lock, limit, [&] { return exits.count(vm_id) > 0; })) {
      return false;
    }
    out = exits[vm_id];
    return true;
  }
};

// Joins the engine's event bus and files every vm_exited event.
caf::behavior exit_watcher(caf::event_based_actor* self, caf::group bus,
                           std::shared_ptr<exit_box> box) {
  self->join(bus);
  // Other events of the bus are not this agent's concern.
  self->set_default_handler(caf::drop);
  return {
      [box](const uvm::vm_exited_event& e) {
        std::lock_guard<std::mutex> lock{box->mutex};
        box->exits[e.vm_id] = e;
        box->arrived.notify_all();
      },
  };
}

int failed(const std::string& step, const std::string& why) {
  std::cerr << "host_agent: " << step << ": " << why << "\n";
  return 1;
}

struct arguments {
  std::string node;
  uvm::tls_options tls;
  bool plaintext = false;
};

bool parse(int argc, char** argv, arguments& a) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string& into) {
      if (i + 1 >= argc) {
        return false;
      }
      into = argv[++i];
      return true;
    };
    bool ok = true;
    if (arg == "--node") {
      ok = value(a.node);
    } else if (arg == "--cert") {
      ok = value(a.tls.certificate);
    } else if (arg == "--key") {
      ok = value(a.tls.key);
    } else if (arg == "--ca") {
      ok = value(a.tls.ca_file);
    } else if (arg == "--insecure-plaintext") {
      a.plaintext = true;
    } else {
      ok = false;
    }
    if (!ok) {
      return false;
    }
  }
  return a.node.empty() || a.plaintext != !a.tls.empty();
}

uvm::result<std::unique_ptr<uvm::engine>> open_engine(const arguments& a) {
  if (a.node.empty()) {
    return std::make_unique<uvm::engine>();
  }
  auto colon = a.node.rfind(':');
  if (colon == std::string::npos) {
    return uvm::error{uvm::errc::bad_request, "--node must be HOST:PORT"};
  }
  auto port = static_cast<uint16_t>(std::stoul(a.node.substr(colon + 1)));
  return uvm::engine::connect(a.node.substr(0, colon), port, a.tls);
}

} // namespace

int main(int argc, char** argv) {
  arguments args;
  if (!parse(argc, argv, args)) {
    std::cerr << "usage: host_agent [--node HOST:PORT (--cert C --key K --ca CA | "
                 "--insecure-plaintext)]\n";
    return 2;
  }
  // The simulated HCS checks that the boot files exist: stand-ins do.
  auto work = std::filesystem::temp_directory_path() /
              ("host_agent-" + std::to_string(static_cast<long>(::getpid())));
  std::filesystem::create_directories(work);
  for (const char* name : {"kernel", "initrd.img", "disk.vhdx"}) {
    std::ofstream{work / name} << name << "\n";
  }
  struct cleanup {
    std::filesystem::path dir;
    ~cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } remove_work{work};

  auto eng = open_engine(args);
  if (!eng) {
    return failed("engine", eng.err().text);
  }
  auto& engine = **eng;
  auto box = std::make_shared<exit_box>();
  auto watcher = engine.system().spawn(exit_watcher, engine.events(), box);
  struct stop_watcher {
    caf::actor actor;
    ~stop_watcher() { caf::anon_send_exit(actor, caf::exit_reason::user_shutdown); }
  } stop{watcher};

  auto opts = uvm::new_default_options_lcow(
      "", "host_agent", engine.config().host,
      [](const std::string& f) { return std::filesystem::exists(f); });
  opts.boot_files_path = work.string();
  auto vm = engine.create_lcow(opts);
  if (!vm) {
    return failed("create_lcow", vm.err().text);
  }
  std::cout << "created " << vm->id() << (args.node.empty() ? "" : " on " + args.node) << "\n";
  if (auto e = vm->start()) {
    return failed("start", e.text);
  }
  auto disk = vm->add_scsi((work / "disk.vhdx").string(), "", false, uvm::vm_access_type::noop);
  if (!disk) {
    return failed("add_scsi", disk.err().text);
  }
  std::cout << "scsi " << disk->host_path << " at controller " << disk->controller << " lun "
            << disk->lun << "\n";

  uvm::process_parameters params;
  params.command_args = {"sh", "-c", "echo hello from the guest"};
  params.create_stdout = true;
  params.create_stderr = true;
  auto process = vm->create_process(params.to_json());
  if (!process) {
    return failed("create_process", process.err().text);
  }
  auto output = process->communicate("");
  auto code = process->wait();
  if (!output || !code) {
    return failed("process", output ? code.err().text : output.err().text);
  }
  std::cout << "process " << process->pid() << " exited " << *code << ": " << output->out;
  if (*code != 0 || output->out != "hello from the guest\n") {
    return failed("process", "unexpected exit code or output");
  }

  uvm::sim_control crash;
  crash.what = uvm::sim_control::kind::crash_now;
  crash.target = vm->id();
  if (auto done = engine.control_sim(crash); !done) {
    return failed("sim crash", done.err().text);
  }
  uvm::vm_exited_event exited;
  if (!box->wait_for(vm->id(), std::chrono::seconds{10}, exited)) {
    return failed("vm_exited", "no event within 10 s");
  }
  std::cout << "vm_exited " << exited.vm_id << " unexpected=" << std::boolalpha << exited.unexpected
            << " exit_error=" << exited.exit_error << "\n";
  if (!exited.unexpected) {
    return failed("vm_exited", "the crash was reported as an expected exit");
  }
  vm->close();
  return 0;
}
