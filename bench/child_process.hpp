// Child processes the benches start and read: a uvmd node, an anchor.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace uvm::bench {

// A started child and the read end of the pipe its stdout writes to.
struct piped_child {
  pid_t pid = 0;
  int stdout_fd = -1;
};

// Starts `args` (args[0] the program, looked up in PATH when `search_path`,
// as a shell would) with its stdout to a pipe, its other descriptors as
// ours. Throws std::runtime_error naming the program when it cannot start.
piped_child spawn_with_piped_stdout(const std::vector<std::string>& args, bool search_path);

} // namespace uvm::bench
