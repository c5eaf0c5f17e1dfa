// The strict JSON reader: what two readers could read differently is
// refused (equal keys, deep nesting, invalid UTF-8, trailing text), and the
// typed reads name the path of what is wrong.
#include "common/json/strict_json.h"

#include <gtest/gtest.h>

#include "common/status.h"

namespace trm::jsonio {
namespace {

const JsonErrors kErrors{"CONFIG_INVALID", "node.json", "; see the docs"};

std::string Refusal(absl::string_view text) {
  absl::StatusOr<nlohmann::json> j = ParseStrictJson(text, kErrors);
  if (j.ok()) return "accepted";
  EXPECT_EQ(ErrorReason(j.status()), "CONFIG_INVALID");
  return std::string(j.status().message());
}

std::string Nested(int depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST(StrictJsonTest, WhatTwoReadersCouldReadDifferentlyIsRefused) {
  EXPECT_EQ(Refusal(R"({"a": 1, "b": {"c": [1, {"d": 2}]}})"), "accepted");
  // nlohmann alone keeps the last of two equal keys.
  EXPECT_EQ(nlohmann::json::parse(R"({"node_id": "bg", "node_id": "ng"})")
                .at("node_id"),
            "ng");
  EXPECT_NE(Refusal(R"({"node_id": "bg", "node_id": "ng"})")
                .find("the key \"node_id\" appears twice"),
            std::string::npos);
  EXPECT_NE(Refusal(R"({"a": {"k": 1, "k": 2}})").find("\"k\" appears twice"),
            std::string::npos);
  EXPECT_EQ(Refusal(R"({"a": {"k": 1}, "b": {"k": 2}})"), "accepted")
      << "equal keys in different objects";
  EXPECT_EQ(Refusal(R"([{"k": 1}, {"k": 2}])"), "accepted");
  EXPECT_EQ(Refusal(Nested(kMaxJsonDepth)), "accepted");
  EXPECT_NE(Refusal(Nested(kMaxJsonDepth + 1)).find("nested deeper than 32"),
            std::string::npos);
  EXPECT_NE(Refusal(Nested(200000)).find("nested deeper"), std::string::npos);
  for (absl::string_view bad :
       {absl::string_view("{\"a\": \"\xff\"}"), absl::string_view("{} {}"),
        absl::string_view("{\"a\": 1,}"), absl::string_view("")}) {
    EXPECT_NE(Refusal(bad).find("node.json: not valid JSON"), std::string::npos)
        << bad;
  }
  EXPECT_NE(Refusal("{\"a\": 1} x").find("; see the docs"), std::string::npos);
}

TEST(StrictJsonTest, TypedReadsNameThePath) {
  const nlohmann::json j = nlohmann::json::parse(
      R"({"name": "bg", "n": 3, "neg": -1, "flag": true, "when": "soon",
          "list": [{"x": 1}, {"y": "z"}], "obj": {"deep": 1}, "_note": "c"})");
  JsonReader r(j, "", kErrors);
  EXPECT_TRUE(r.Keys({"name", "n", "neg", "flag", "when", "list", "obj"}).ok())
      << "a key starting with _ is a comment";
  EXPECT_EQ(r.Keys({"name"}).message(),
            "CONFIG_INVALID: node.json: unknown key \"flag\" (prefix a key "
            "with '_' to "
            "comment); see the docs");
  EXPECT_EQ(*r.Str("name", true), "bg");
  EXPECT_EQ(*r.Str("absent", false), "");
  EXPECT_EQ(r.Str("absent", true).status().message(),
            "CONFIG_INVALID: node.json: \"absent\" is missing; see the docs");
  EXPECT_EQ(r.Str("n", false).status().message(),
            "CONFIG_INVALID: node.json: n: must be a string; see the docs");
  uint64_t n = 7;
  ASSERT_TRUE(r.UInt("absent", &n).ok());
  EXPECT_EQ(n, 7u);
  ASSERT_TRUE(r.UInt("n", &n).ok());
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(r.UInt("neg", &n).message(),
            "CONFIG_INVALID: node.json: neg: must be a non-negative integer; "
            "see the docs");
  bool flag = false;
  ASSERT_TRUE(r.Bool("flag", &flag).ok());
  EXPECT_TRUE(flag);
  EXPECT_FALSE(r.Bool("n", &flag).ok());
  EXPECT_NE(r.Time("when").status().message().find("not an RFC 3339 time"),
            std::string::npos);
  auto list = r.List("list");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].Keys({"x"}).message(),
            "CONFIG_INVALID: node.json: list[1]: unknown key \"y\" (prefix a "
            "key with '_' to "
            "comment); see the docs");
  EXPECT_FALSE(r.List("name").ok());
  auto obj = r.Object("obj");
  ASSERT_TRUE(obj.ok());
  EXPECT_EQ(obj->path(), "obj");
  EXPECT_FALSE(r.Object("list").ok());
  EXPECT_TRUE(r.Object("absent")->Keys({}).ok()) << "absent: empty";
}

}  // namespace
}  // namespace trm::jsonio
