// `uvm-bench qemu`: real utility VMs on the QEMU backend, timed.
#pragma once

#include <string>

namespace uvm::bench {

// Boots `runs` VMs one after another from `boot_files` (a LinuxBootFiles
// folder) and reports the median and range of boot-to-ready and of each
// hot-add (SCSI + guest mount, VPMEM + mount, Plan9 + mount) and a guest
// process round trip.
int qemu_bench(const std::string& boot_files, int runs, bool json);

} // namespace uvm::bench
