#include "guest/dm_linear.hpp"

#include <cerrno>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace uvm::guest {

namespace {

constexpr uint64_t sector = 512;
// The misc minor of /dev/mapper/control (include/linux/miscdevice.h).
constexpr unsigned control_major = 10;
constexpr unsigned control_minor = 236;

error failure(const std::string& what, int err) {
  return error{errc::io_failure, what + ": " + std::strerror(err)};
}

class control_fd {
public:
  explicit control_fd(int fd) : fd_(fd) {}
  control_fd(const control_fd&) = delete;
  control_fd& operator=(const control_fd&) = delete;
  ~control_fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  int get() const { return fd_; }

private:
  int fd_;
};

result<int> open_control(const std::string& control) {
  auto dir = control.substr(0, control.rfind('/'));
  if (!dir.empty()) {
    ::mkdir(dir.c_str(), 0755);
  }
  if (::mknod(control.c_str(), S_IFCHR | 0600, makedev(control_major, control_minor)) != 0 &&
      errno != EEXIST) {
    return failure("mknod " + control, errno);
  }
  int fd = ::open(control.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return failure("open " + control + " (is dm_mod loaded?)", errno);
  }
  return fd;
}

// A dm_ioctl header followed by `payload` bytes, 8-byte aligned as the
// kernel reads target specs.
std::vector<uint64_t> ioctl_buffer(const std::string& name, size_t payload, uint32_t flags) {
  size_t bytes = sizeof(dm_ioctl) + payload;
  std::vector<uint64_t> buffer((bytes + 7) / 8, 0);
  auto* io = reinterpret_cast<dm_ioctl*>(buffer.data());
  io->version[0] = DM_VERSION_MAJOR;
  io->version[1] = 0;
  io->version[2] = 0;
  io->data_size = static_cast<uint32_t>(buffer.size() * 8);
  io->data_start = sizeof(dm_ioctl);
  io->flags = flags;
  std::strncpy(io->name, name.c_str(), sizeof io->name - 1);
  return buffer;
}

error run(int fd, unsigned long request, std::vector<uint64_t>& buffer, const std::string& what) {
  if (::ioctl(fd, request, buffer.data()) != 0) {
    return failure(what, errno);
  }
  return {};
}

} // namespace

result<block_device> dm_linear_create(const dm_linear_spec& spec, const std::string& control) {
  if (spec.name.empty() || spec.name.size() >= DM_NAME_LEN) {
    return error{errc::bad_request, "device-mapper name \"" + spec.name + "\" is empty or long"};
  }
  if (spec.offset_bytes % sector != 0 || spec.size_bytes % sector != 0 || spec.size_bytes == 0) {
    return error{errc::bad_request,
                 "device-mapper range of " + spec.name + " is not in whole 512-byte sectors"};
  }
  auto fd_or = open_control(control);
  if (!fd_or) {
    return fd_or.err();
  }
  control_fd fd{*fd_or};
  const std::string what = "device-mapper " + spec.name;

  auto create = ioctl_buffer(spec.name, 0, DM_READONLY_FLAG);
  if (auto e = run(fd.get(), DM_DEV_CREATE, create, "create " + what)) {
    return e;
  }
  auto undo = [&](error e) -> result<block_device> {
    auto remove = ioctl_buffer(spec.name, 0, 0);
    run(fd.get(), DM_DEV_REMOVE, remove, "remove " + what);
    return e;
  };

  // One target: "<major>:<minor> <start sector>" of the backing device.
  std::string params = std::to_string(spec.backing.major) + ":" +
                       std::to_string(spec.backing.minor) + " " +
                       std::to_string(spec.offset_bytes / sector);
  size_t payload = sizeof(dm_target_spec) + params.size() + 1;
  auto load = ioctl_buffer(spec.name, payload, DM_READONLY_FLAG);
  auto* io = reinterpret_cast<dm_ioctl*>(load.data());
  io->target_count = 1;
  auto* target = reinterpret_cast<dm_target_spec*>(reinterpret_cast<char*>(io) + io->data_start);
  target->sector_start = 0;
  target->length = spec.size_bytes / sector;
  std::strncpy(target->target_type, "linear", sizeof target->target_type - 1);
  std::memcpy(reinterpret_cast<char*>(target + 1), params.c_str(), params.size() + 1);
  if (auto e = run(fd.get(), DM_TABLE_LOAD, load, "load the table of " + what)) {
    return undo(e);
  }
  // DM_DEV_SUSPEND without DM_SUSPEND_FLAG resumes: the loaded table goes live.
  auto resume = ioctl_buffer(spec.name, 0, 0);
  if (auto e = run(fd.get(), DM_DEV_SUSPEND, resume, "resume " + what)) {
    return undo(e);
  }
  auto dev = reinterpret_cast<dm_ioctl*>(resume.data())->dev;
  return block_device{spec.name, ::major(dev), ::minor(dev)};
}

error dm_remove(const std::string& name, const std::string& control) {
  auto fd_or = open_control(control);
  if (!fd_or) {
    return fd_or.err();
  }
  control_fd fd{*fd_or};
  auto remove = ioctl_buffer(name, 0, 0);
  return run(fd.get(), DM_DEV_REMOVE, remove, "remove device-mapper " + name);
}

} // namespace uvm::guest
