#include "guest/connection.hpp"

#include "guest/io.hpp"

#include <cerrno>
#include <cstring>
#include <mutex>

#include <unistd.h>

namespace uvm::guest {

std::string serve_connection(int in_fd, int out_fd, const service_options& opts,
                             bool* shut_down) {
  std::mutex write_mutex;
  bool write_failed = false;
  service svc{opts, [&](uint32_t type, uint64_t id, const std::string& body) {
                std::lock_guard<std::mutex> lock{write_mutex};
                if (!write_failed && !write_fully(out_fd, bridge::encode_frame(type, id, body))) {
                  write_failed = true;
                }
              }};
  bridge::frame_decoder decoder{};
  char buf[65536];
  for (;;) {
    auto n = ::read(in_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return std::string{"bridge read failed: "} + std::strerror(errno);
    }
    if (n == 0) {
      return decoder.at_eof();
    }
    decoder.feed(buf, static_cast<size_t>(n));
    while (auto f = decoder.next()) {
      svc.handle(*f);
      if (svc.stopping()) {
        if (shut_down != nullptr) {
          *shut_down = true;
        }
        return {};
      }
    }
    if (decoder.failed()) {
      return decoder.error();
    }
  }
}

} // namespace uvm::guest
