// How the host reaches a guest agent (issue: GCS bridge, transports): one
// bridge connection as a socket, made one of four ways:
//   "in-process"  our agent on a thread of this process, over a socketpair
//                 (the embedded default), its processes each in a sandbox
//                 (guest/sandbox.hpp);
//   "in-process-unconfined"  the same with processes that run unconfined
//                 on this host, which it warns about;
//   "exec:CMD"    CMD (split in words) started with its stdin/stdout as the
//                 bridge, as hcsshim's guest runs with -use-inouterr;
//   "unix:PATH"   dial an agent listening on a unix socket;
//   "qemu:DIR"    the chardev sockets of a QEMU VM's virtio-serial ports:
//                 the bridge on DIR/gcs.sock, and the stdio relays
//                 multiplexed on DIR/stdio.sock (bridge/stdio_mux.hpp),
//                 which the link serves while it lives.
// Pure (no actors): the host bridge actor reads and writes the socket.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "bridge/stdio_mux.hpp"
#include "guest/service.hpp"

namespace uvm::guest {

// "UVM_STDIO_DIR=<dir>" in an exec: agent's environment: where the host
// listens for its stdio relays (gcs takes it as its --stdio-dir default).
constexpr const char* stdio_dir_variable = "UVM_STDIO_DIR";

class link {
public:
  ~link();
  link(const link&) = delete;
  link& operator=(const link&) = delete;

  // Read and write end of the bridge.
  int fd() const { return fd_; }
  const std::string& spec() const { return spec_; }
  // Ends the connection: the agent sees end of stream, a reader on fd()
  // wakes up.
  void shut();
  // In-process agents only: the next `count` ModifySettings fail (fault
  // injection); false for other agents.
  bool fail_next_modify(uint32_t count);
  // In-process agents only: the agent's mount table; null otherwise.
  const std::shared_ptr<bridge::guest_stub>& mounts() const { return mounts_; }

  // `options.stdio_dir` also goes to exec: agents and qemu: stdio relays;
  // the rest is for in-process agents only.
  static result<std::unique_ptr<link>> open(const std::string& spec,
                                            const service_options& options);

private:
  link() = default;

  std::string spec_;
  int fd_ = -1;
  int child_pid_ = -1;
  std::thread agent_;
  std::shared_ptr<std::atomic<uint32_t>> faults_;
  std::shared_ptr<bridge::guest_stub> mounts_;
  std::unique_ptr<bridge::stdio_mux> stdio_mux_; // qemu: only
};

} // namespace uvm::guest
