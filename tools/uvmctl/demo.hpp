// `uvmctl demo`: the main job on the embedded default (simulated HCS). A
// small fleet is created and started, one VM exits unexpectedly and the
// supervisor brings it back, a summary is printed, everything is closed.
#pragma once

#include <iosfwd>
#include <string>

#include "actors/engine.hpp"

namespace uvm::cli {

struct demo_options {
  int lcow = 3;
  int wcow = 2;
  bool json = false;
  std::string work_dir; // host files; a temporary folder when empty
};

// 0 when every step did what it should.
int run_demo(const demo_options& opts, std::ostream& out);

} // namespace uvm::cli
