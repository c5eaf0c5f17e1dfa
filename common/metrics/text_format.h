// The Prometheus text exposition format (0.0.4), as the node's and the
// agent's /metrics write it.
//
//   TextWriter w;
//   w.Family("trm_agent_stored_total", "counter", "messages stored");
//   w.Sample("trm_agent_stored_total", "", 12);
//   w.Sample("trm_x", absl::StrCat("peer=\"", LabelValue(peer), "\""), 1);
#ifndef TRM_COMMON_METRICS_TEXT_FORMAT_H_
#define TRM_COMMON_METRICS_TEXT_FORMAT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace trm::metrics {

class TextWriter {
 public:
  void Family(absl::string_view name, absl::string_view type,
              absl::string_view help);
  // `labels` is the inside of {}, e.g. `peer="ng"`, or empty.
  void Sample(absl::string_view name, absl::string_view labels, double value);
  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

// A label value with \, " and newlines escaped.
std::string LabelValue(absl::string_view v);

// name="value", the value escaped: one label for Sample.
std::string Label(absl::string_view name, absl::string_view value);

// The shortest decimal that reads back as `v`.
std::string Number(double v);

}  // namespace trm::metrics

#endif  // TRM_COMMON_METRICS_TEXT_FORMAT_H_
