// `uvmctl demo --backend qemu`: one real utility VM under QEMU (TCG). It
// boots with a progress display, gets a VHDX scratch disk (SCSI) and a
// read-only layer (VPMEM), runs a command in the guest that reads the layer
// and writes to the scratch, shows the file on the host's image after the
// disk is removed, and prints how long each step took.
#pragma once

#include <iosfwd>
#include <string>

namespace uvm::cli {

struct qemu_demo_options {
  std::string boot_files; // default: LinuxBootFiles next to uvmctl
  std::string work_dir;   // images; a temporary folder when empty
  bool json = false;
};

int run_qemu_demo(const qemu_demo_options& opts, std::ostream& out);

} // namespace uvm::cli
