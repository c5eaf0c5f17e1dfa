#include "common/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace trm {
namespace {

absl::Status IoError(absl::string_view what, const std::string& path) {
  return Error(
      absl::StatusCode::kFailedPrecondition, "FILE_IO",
      absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(errno)));
}

absl::Status NotRegular(const std::string& path, absl::string_view kind) {
  return Error(absl::StatusCode::kFailedPrecondition, "OUTPUT_NOT_REGULAR_FILE",
               absl::StrCat(path, " is ", kind,
                            "; it is never replaced or written through. "
                            "Name a regular file, a new path, or '-' for "
                            "standard output"));
}

bool WriteAll(int fd, ByteView data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

absl::Status WriteOutputFile(const std::string& path, ByteView data, int mode) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
      // In place: the device or pipe stays what it is.
      const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0) return IoError("open", path);
      const bool ok = WriteAll(fd, data);
      const absl::Status s = ok ? absl::OkStatus() : IoError("write", path);
      ::close(fd);
      return s;
    }
    if (S_ISLNK(st.st_mode)) return NotRegular(path, "a symbolic link");
    if (S_ISDIR(st.st_mode)) return NotRegular(path, "a directory");
    if (!S_ISREG(st.st_mode)) {
      return NotRegular(path, "a socket or block device");
    }
  } else if (errno != ENOENT) {
    return IoError("inspect", path);
  }
  const std::string tmp = path + ".tmp";
  if (::lstat(tmp.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) return NotRegular(tmp, "not a regular file");
    if (::unlink(tmp.c_str()) != 0) return IoError("remove", tmp);
  }
  const int fd = ::open(
      tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return IoError("create", tmp);
  const bool ok =
      ::fchmod(fd, mode) == 0 && WriteAll(fd, data) && ::fsync(fd) == 0;
  absl::Status s = ok ? absl::OkStatus() : IoError("write", tmp);
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = IoError("rename onto", path);
  }
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

}  // namespace trm
