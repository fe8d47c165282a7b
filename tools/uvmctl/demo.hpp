// `uvmctl demo`: the main job on the embedded default (simulated HCS). A
// small fleet is created and started, one VM exits unexpectedly and the
// supervisor brings it back, a summary is printed, everything is closed.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>

#include "engine/engine.hpp"

namespace uvm::cli {

struct demo_options {
  int lcow = 3;
  int wcow = 2;
  bool json = false;
  std::string work_dir; // host files; a temporary folder when empty
};

// A host folder with what CreateLCOW / CreateWCOW check for: LCOW boot files
// and a WCOW base layer with its UtilityVM folder and scratch template.
// The simulator boots nothing, so the files only need to exist.
struct demo_host {
  std::filesystem::path root;
  std::filesystem::path boot_files;
  std::filesystem::path base_layer;

  // Under `dir`, or a temporary folder when it is empty.
  static demo_host make(const std::string& dir);
};

// 0 when every step did what it should.
int run_demo(const demo_options& opts, std::ostream& out);

} // namespace uvm::cli
