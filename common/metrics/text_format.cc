#include "common/metrics/text_format.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace trm::metrics {

std::string Number(double v) {
  char buf[64];
  if (v < 1e15 && v > -1e15 && v == std::trunc(v)) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
    return buf;
  }
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string LabelValue(absl::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Label(absl::string_view name, absl::string_view value) {
  return absl::StrCat(name, "=\"", LabelValue(value), "\"");
}

void TextWriter::Family(absl::string_view name, absl::string_view type,
                        absl::string_view help) {
  absl::StrAppend(&out_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ",
                  type, "\n");
}

void TextWriter::Sample(absl::string_view name, absl::string_view labels,
                        double value) {
  absl::StrAppend(&out_, name, labels.empty() ? "" : "{", labels,
                  labels.empty() ? "" : "}", " ", Number(value), "\n");
}

}  // namespace trm::metrics
