// Writing a file that a user named, without ever replacing something that
// is not a regular file.
//
//   RETURN_IF_ERROR(WriteOutputFile("referral.env", AsBytes(wire), 0644));
//
// A new or regular target is written to PATH.tmp, synced and renamed over
// PATH, so a reader never sees half a file. A character device (such as
// /dev/null) or a FIFO is written in place: renaming over it would replace
// the device node itself. A symlink, directory, socket or block device is
// refused (OUTPUT_NOT_REGULAR_FILE), as is a PATH.tmp that is not a regular
// file. Errors are FILE_IO with the path and the system's reason.
#ifndef TRM_COMMON_OUTPUT_FILE_H_
#define TRM_COMMON_OUTPUT_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "common/bytes.h"

namespace trm {

absl::Status WriteOutputFile(const std::string& path, ByteView data, int mode);

}  // namespace trm

#endif  // TRM_COMMON_OUTPUT_FILE_H_
