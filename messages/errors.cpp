#include "messages/errors.hpp"

namespace uvm {

std::string_view default_text(errc code) {
  switch (code) {
  case errc::no_available_location:
    return "no available location";
  case errc::not_attached:
    return "not attached";
  case errc::already_attached:
    return "already attached";
  case errc::no_scsi_controllers:
    return "no SCSI controllers configured for this utility VM";
  case errc::too_many_attachments:
    return "too many SCSI attachments";
  case errc::scsi_layer_wcow_unsupported:
    return "SCSI attached layers are not supported for WCOW";
  case errc::max_vpmem_layer_size:
    return "layer size is to large for VPMEM max size";
  case errc::netns_already_attached:
    return "network namespace already added";
  case errc::netns_not_found:
    return "network namespace not found";
  case errc::not_supported:
    return "not supported";
  case errc::not_exited:
    return "container not exited";
  case errc::deadline_exceeded:
    return "deadline exceeded";
  default:
    return {};
  }
}

} // namespace uvm
