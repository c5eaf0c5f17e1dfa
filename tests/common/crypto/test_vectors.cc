#include "tests/common/crypto/test_vectors.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/bytes.h"

namespace trm::testing {

std::string ReadTestData(const std::string& relative_path) {
  std::ifstream in(std::string(TRM_TESTDATA) + "/" + relative_path,
                   std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read testdata " << relative_path;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<uint8_t> Unhex(const std::string& hex) {
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.ok()) << bytes.status() << " in " << hex;
  return bytes.ok() ? *bytes : std::vector<uint8_t>();
}

std::vector<HpkeVector> ParseHpkeVectors(const std::string& text) {
  enum class Part { kNone, kSetup, kEncryptions, kExports };
  std::vector<HpkeVector> out;
  std::string suite;
  Part part = Part::kNone;
  HpkeRecord record;
  std::string last_key;
  auto flush = [&] {
    if (record.empty() || out.empty()) return;
    if (part == Part::kSetup) out.back().setup = record;
    if (part == Part::kEncryptions) out.back().encryptions.push_back(record);
    if (part == Part::kExports) out.back().exports.push_back(record);
    record.clear();
  };
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("## ", 0) == 0) {
      suite = line.substr(3);
    } else if (line.rfind("### ", 0) == 0) {
      flush();
      out.push_back(HpkeVector{suite, {}, {}, {}});
      part = Part::kSetup;
    } else if (line.rfind("#### Encryptions", 0) == 0) {
      flush();
      part = Part::kEncryptions;
    } else if (line.rfind("#### Exported", 0) == 0) {
      flush();
      part = Part::kExports;
    } else if (line == "~~~" || line.empty()) {
      flush();
    } else if (size_t colon = line.find(':'); colon != std::string::npos) {
      last_key = line.substr(0, colon);
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      record[last_key] = value;
    } else if (!last_key.empty()) {
      record[last_key] += line;  // wrapped hex continues
    }
  }
  flush();
  return out;
}

}  // namespace trm::testing
