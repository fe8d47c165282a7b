#include "guest/connection.hpp"

#include <cerrno>
#include <cstring>
#include <mutex>

#include <unistd.h>

namespace uvm::guest {

namespace {

bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    auto n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

} // namespace

std::string serve_connection(int in_fd, int out_fd, const service_options& opts) {
  std::mutex write_mutex;
  bool write_failed = false;
  service svc{opts, [&](uint32_t type, uint64_t id, const std::string& body) {
                std::lock_guard<std::mutex> lock{write_mutex};
                if (!write_failed && !write_all(out_fd, bridge::encode_frame(type, id, body))) {
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
        return {};
      }
    }
    if (decoder.failed()) {
      return decoder.error();
    }
  }
}

} // namespace uvm::guest
