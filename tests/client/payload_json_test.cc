#include "trm/client/payload_json.h"

#include <gtest/gtest.h>

#include <string>

#include "common/status.h"
#include "trm/v1/case.pb.h"

namespace trm::client {
namespace {

TEST(PayloadJsonTest, TimesAreRfc3339AndEnumsAreNames) {
  const std::string json = R"({
    "held": "2026-12-01T09:30:00Z",
    "topics": ["travel", "reception"],
    "informed_consent_confirmed": true
  })";
  absl::StatusOr<std::string> bytes =
      PayloadFromJson(v1::PRE_DEPARTURE_COUNSELLING, json);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  v1::PreDepartureCounselling p;
  ASSERT_TRUE(p.ParseFromString(*bytes));
  EXPECT_EQ(p.held().seconds(), 1796117400);
  EXPECT_EQ(p.topics_size(), 2);

  v1::CaseClosure closure;
  closure.set_reason(v1::CaseClosure::LOST_CONTACT);
  absl::StatusOr<std::string> back =
      PayloadToJson(v1::CASE_CLOSURE, closure.SerializeAsString());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, R"({"reason":"LOST_CONTACT"})");
}

TEST(PayloadJsonTest, AnErrorNamesTheFieldAndWhatToWrite) {
  struct Row {
    const char* json;
    const char* names;  // the message contains it
  } rows[] = {
      {R"({"held": 1796117400000})", "held"},   // epoch ms, not a time
      {R"({"held": "yesterday"})", "held"},     // not RFC 3339
      {R"({"topics": [{"a": 2}]})", "topics"},  // a list of text
      {R"({"helds": "2026-12-01T09:30:00Z"})", "helds"},   // no such field
      {R"({"held": )", "trm.v1.PreDepartureCounselling"},  // malformed
  };
  for (const Row& row : rows) {
    absl::StatusOr<std::string> bytes =
        PayloadFromJson(v1::PRE_DEPARTURE_COUNSELLING, row.json);
    ASSERT_FALSE(bytes.ok()) << row.json;
    EXPECT_EQ(ErrorReason(bytes.status()), "JSON_INVALID") << row.json;
    EXPECT_NE(bytes.status().message().find(row.names), std::string::npos)
        << row.json << ": " << bytes.status().message();
  }
  absl::StatusOr<std::string> enum_text =
      PayloadFromJson(v1::CASE_CLOSURE, R"({"reason": "FINISHED"})");
  ASSERT_FALSE(enum_text.ok());
  EXPECT_NE(enum_text.status().message().find("reason"), std::string::npos)
      << enum_text.status().message();
  EXPECT_EQ(ErrorReason(PayloadFromJson(v1::DEADLINE_NOTICE, "{}").status()),
            "NO_PAYLOAD_SCHEMA");
}

// The example of every type reads back as that type, and shows every field.
TEST(PayloadJsonTest, EveryTypeHasAnExampleThatReadsBack) {
  const auto* types = v1::MessageType_descriptor();
  int with_payload = 0;
  for (int i = 1; i < types->value_count(); ++i) {
    const auto type = static_cast<v1::MessageType>(types->value(i)->number());
    if (PayloadOf(type) == nullptr || type == v1::DEADLINE_NOTICE) continue;
    ++with_payload;
    absl::StatusOr<std::string> example = ExamplePayloadJson(type);
    ASSERT_TRUE(example.ok()) << types->value(i)->name();
    absl::StatusOr<std::string> bytes = PayloadFromJson(type, *example);
    ASSERT_TRUE(bytes.ok()) << *example << ": " << bytes.status();
    auto m = PayloadOf(type);
    ASSERT_TRUE(m->ParseFromString(*bytes));
    const auto* d = m->GetDescriptor();
    for (int f = 0; f < d->field_count(); ++f) {
      EXPECT_NE(example->find("\"" + d->field(f)->name() + "\""),
                std::string::npos)
          << d->name() << "." << d->field(f)->name();
    }
  }
  EXPECT_GE(with_payload, 20);
  absl::StatusOr<std::string> travel =
      ExamplePayloadJson(v1::TRAVEL_ARRANGEMENT);
  EXPECT_NE(travel->find("\"departure\": \"2026-12-01T09:30:00Z\""),
            std::string::npos)
      << *travel;
}

}  // namespace
}  // namespace trm::client
