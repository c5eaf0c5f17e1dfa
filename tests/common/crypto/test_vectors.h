// Readers for the test-vector files in tests/testdata.
#ifndef TRM_TESTS_COMMON_CRYPTO_TEST_VECTORS_H_
#define TRM_TESTS_COMMON_CRYPTO_TEST_VECTORS_H_

#include <map>
#include <string>
#include <vector>

namespace trm::testing {

// Whole file under tests/testdata; fails the test when it cannot be read.
std::string ReadTestData(const std::string& relative_path);

// Hex to bytes; fails the test on bad hex.
std::vector<uint8_t> Unhex(const std::string& hex);

using HpkeRecord = std::map<std::string, std::string>;

// One RFC 9180 Appendix A test case: a suite and mode's setup values, its
// encryptions (by sequence number) and its exports.
struct HpkeVector {
  std::string suite;  // the "## ..." heading
  HpkeRecord setup;
  std::vector<HpkeRecord> encryptions;
  std::vector<HpkeRecord> exports;
};

std::vector<HpkeVector> ParseHpkeVectors(const std::string& text);

}  // namespace trm::testing

#endif  // TRM_TESTS_COMMON_CRYPTO_TEST_VECTORS_H_
