#include "messages/guest_types.hpp"

#include <nlohmann/json.hpp>

namespace uvm {

std::string process_parameters::to_json() const {
  // Ordered as hcs-schema.md §8 lists the members.
  auto j = nlohmann::ordered_json::object();
  if (!command_line.empty()) {
    j["CommandLine"] = command_line;
  }
  if (!command_args.empty()) {
    j["CommandArgs"] = command_args;
  }
  if (!working_directory.empty()) {
    j["WorkingDirectory"] = working_directory;
  }
  if (!environment.empty()) {
    j["Environment"] = environment;
  }
  if (emulate_console) {
    j["EmulateConsole"] = true;
  }
  j["CreateStdInPipe"] = create_stdin;
  j["CreateStdOutPipe"] = create_stdout;
  j["CreateStdErrPipe"] = create_stderr;
  if (!oci_process.empty()) {
    auto oci = nlohmann::ordered_json::parse(oci_process, nullptr, false);
    // Text that is not JSON goes as a string: the guest says what is wrong.
    j["OciProcess"] = oci.is_discarded() ? nlohmann::ordered_json(oci_process) : oci;
  }
  return j.dump();
}

} // namespace uvm
