// The node's log: one line per event, as text ("trm-broker: ...", the
// default) or as JSON lines ("log_format": "json"). Message events carry the
// message id as `trace_id`, the same at every node the message passes, and
// never a payload or a personal field (headers carry none: docs/security.md).
//
//   log::Info("node.serving", absl::StrCat("node bg serving on ", addr),
//             {{"node", "bg"}});
//   log::Message("message.accepted", id, {{"case", ref}, {"to", org}});
#ifndef TRM_COMMON_LOG_H_
#define TRM_COMMON_LOG_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace trm::log {

enum class Format { kText, kJson };
using Fields = std::vector<std::pair<std::string, std::string>>;

// Process-wide; set once at start, before other threads log.
void SetFormat(Format format);
void SetMessageLogging(bool on);
bool MessageLogging();

// A node event. Text: "trm-broker: TEXT" on stdout (Info) or stderr
// (Warn, Error). JSON: {"time", "level", "event", "msg", fields...} on
// stdout.
void Info(absl::string_view event, absl::string_view text,
          const Fields& fields = {});
void Warn(absl::string_view event, absl::string_view text,
          const Fields& fields = {});
void Error(absl::string_view event, absl::string_view text,
           const Fields& fields = {});

// A step of one message (only while message logging is on): `message_id`
// (raw 16 bytes) becomes the hex trace_id.
void Message(absl::string_view event, absl::string_view message_id,
             const Fields& fields);

// `s` as a JSON string literal, quotes included.
std::string JsonString(absl::string_view s);

}  // namespace trm::log

#endif  // TRM_COMMON_LOG_H_
