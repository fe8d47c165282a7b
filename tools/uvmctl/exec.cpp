#include "tools/uvmctl/exec.hpp"

#include <atomic>
#include <iostream>
#include <thread>

#include <poll.h>
#include <unistd.h>

#include "engine/engine.hpp"
#include "tools/uvmctl/demo.hpp"

namespace uvm::cli {

namespace {

int fail(const std::string& why) {
  std::cerr << "uvmctl exec: " << why << "\n";
  return 125;
}

// Copies a stdio channel to a descriptor of ours until its end.
void relay(bridge::stdio_channel* from, int to) {
  if (from == nullptr) {
    return;
  }
  char buf[65536];
  for (;;) {
    auto n = from->read(buf, sizeof buf);
    if (!n || *n == 0) {
      return;
    }
    for (size_t done = 0; done < *n;) {
      auto w = ::write(to, buf + done, *n - done);
      if (w <= 0) {
        return;
      }
      done += static_cast<size_t>(w);
    }
  }
}

// Copies our stdin to the process until it ends or the process is done.
void forward_stdin(bridge::stdio_channel* to, const std::atomic<bool>& finished) {
  char buf[65536];
  while (!finished) {
    pollfd ready{STDIN_FILENO, POLLIN, 0};
    if (::poll(&ready, 1, 100) <= 0) {
      continue;
    }
    auto n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0 || to->write({buf, static_cast<size_t>(n)})) {
      break;
    }
  }
  to->close_write();
}

} // namespace

int run_in_vm(utility_vm& vm, const exec_options& opts) {
  process_parameters params;
  params.command_args = opts.command;
  params.create_stdin = opts.interactive;
  params.create_stdout = params.create_stderr = true;
  auto p = vm.create_process(params.to_json());
  if (!p) {
    return fail(p.err().text);
  }
  std::thread out([&] { relay(p->std_out(), STDOUT_FILENO); });
  std::thread err([&] { relay(p->std_err(), STDERR_FILENO); });
  std::atomic<bool> finished{false};
  std::thread in;
  if (opts.interactive) {
    in = std::thread([&] { forward_stdin(p->std_in(), finished); });
  }
  out.join();
  err.join();
  finished = true;
  if (in.joinable()) {
    in.join();
  }
  auto exit = p->wait();
  return exit ? static_cast<int>(*exit & 0xFF) : fail(exit.err().text);
}

int run_exec_on(engine& eng, const exec_options& opts) {
  if (opts.command.empty()) {
    return fail("no command (uvmctl --node HOST:PORT exec VM -- CMD...)");
  }
  auto vm = eng.find(opts.vm);
  if (!vm) {
    return fail("node " + eng.node() + ": " + vm.err().text);
  }
  return run_in_vm(*vm, opts);
}

int run_exec(const exec_options& opts) {
  if (opts.vm.rfind("lcow-", 0) != 0) {
    return fail("'" + opts.vm +
                "' is not an LCOW VM of the demo fleet (lcow-1, lcow-2, ...): "
                "WCOW processes are created by HCS, which the simulated HCS does not do");
  }
  if (opts.command.empty()) {
    return fail("no command (uvmctl exec VM -- CMD...)");
  }
  auto host_dir = demo_host::make(opts.work_dir);
  int code = 125;
  {
    engine_config cfg;
    cfg.host = detect_host();
    cfg.guest = opts.guest;
    engine eng{cfg};
    auto o = new_default_options_lcow(opts.vm, "uvmctl-demo", cfg.host, [](const std::string& f) {
      return std::filesystem::exists(f);
    });
    o.boot_files_path = host_dir.boot_files.string();
    auto vm = eng.create_lcow(std::move(o));
    if (!vm) {
      code = fail("create " + opts.vm + ": " + vm.err().text);
    } else if (auto e = vm->start()) {
      code = fail("start " + opts.vm + ": " + e.text);
    } else {
      code = run_in_vm(*vm, opts);
      vm->close();
    }
  }
  if (opts.work_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(host_dir.root, ec);
  }
  return code;
}

} // namespace uvm::cli
