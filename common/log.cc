#include "common/log.h"

#include <atomic>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/bytes.h"
#include "common/time_text.h"

namespace trm::log {
namespace {

std::atomic<Format> g_format{Format::kText};
std::atomic<bool> g_messages{false};
absl::Mutex g_mu;

void Write(absl::string_view level, absl::string_view event,
           absl::string_view text, const Fields& fields, bool to_stderr) {
  std::string line;
  if (g_format.load() == Format::kJson) {
    absl::StrAppend(
        &line,
        "{\"time\":", JsonString(IsoMillis(absl::ToUnixMillis(absl::Now()))),
        ",\"level\":", JsonString(level), ",\"event\":", JsonString(event));
    if (!text.empty()) absl::StrAppend(&line, ",\"msg\":", JsonString(text));
    for (const auto& [k, v] : fields) {
      if (v.empty()) continue;
      absl::StrAppend(&line, ",", JsonString(k), ":", JsonString(v));
    }
    line.append("}\n");
    to_stderr = false;
  } else {
    absl::StrAppend(&line, "trm-broker: ", text);
    if (text.empty()) absl::StrAppend(&line, event);
    for (const auto& [k, v] : fields) {
      if (text.empty() && !v.empty()) absl::StrAppend(&line, " ", k, "=", v);
    }
    line.push_back('\n');
  }
  absl::MutexLock lock(&g_mu);
  FILE* out = to_stderr ? stderr : stdout;
  std::fwrite(line.data(), 1, line.size(), out);
  std::fflush(out);
}

}  // namespace

void SetFormat(Format format) { g_format.store(format); }
void SetMessageLogging(bool on) { g_messages.store(on); }
bool MessageLogging() { return g_messages.load(); }

void Info(absl::string_view event, absl::string_view text,
          const Fields& fields) {
  Write("info", event, text, fields, false);
}
void Warn(absl::string_view event, absl::string_view text,
          const Fields& fields) {
  Write("warn", event, text, fields, true);
}
void Error(absl::string_view event, absl::string_view text,
           const Fields& fields) {
  Write("error", event, text, fields, true);
}

void Message(absl::string_view event, absl::string_view message_id,
             const Fields& fields) {
  if (!g_messages.load()) return;
  Fields all;
  all.reserve(fields.size() + 1);
  all.emplace_back("trace_id", HexEncode(AsBytes(message_id)));
  all.insert(all.end(), fields.begin(), fields.end());
  Write("info", event, "", all, false);
}

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out.append(buf);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace trm::log
