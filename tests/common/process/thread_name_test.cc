#include "common/process/thread_name.h"

#include <thread>

#include "gtest/gtest.h"

namespace trm::process {
namespace {

TEST(ThreadName, TheKernelHoldsTheName) {
  std::string seen;
  std::thread t([&] {
    NameThisThread("trm-commit");
    seen = ThisThreadName();
  });
  t.join();
  EXPECT_EQ(seen, "trm-commit");
}

TEST(ThreadName, ALongNameIsCutToFifteenBytes) {
  std::string seen;
  std::thread t([&] {
    NameThisThread("trm-a-name-longer-than-fifteen");
    seen = ThisThreadName();
  });
  t.join();
  EXPECT_EQ(seen, "trm-a-name-long");
}

TEST(ThreadName, NamingOneThreadLeavesTheOthers) {
  const std::string before = ThisThreadName();
  std::thread t([] { NameThisThread("trm-other"); });
  t.join();
  EXPECT_EQ(ThisThreadName(), before);
}

}  // namespace
}  // namespace trm::process
