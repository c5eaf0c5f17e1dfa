#include "common/cases/periods.h"

#include <algorithm>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/directory/directory.h"
#include "common/status.h"

namespace trm::cases {
namespace {

using nlohmann::json;

constexpr int kMaxTravelNoticeDays = 60;
const absl::Duration kMinReflection = absl::Hours(24 * 30);
const absl::Duration kMaxMonitoring = absl::Hours(24 * 365 * 3);

// Which way is stricter: a longer period, or a shorter one.
bool LongerIsStricter(PeriodField f) {
  return f == PeriodField::kReflection || f == PeriodField::kTravelNotice ||
         f == PeriodField::kMonitoringFor;
}

// The field of the proto, 0 when unset; working days as a count.
uint64_t Get(const v1::CasePeriods& p, PeriodField f) {
  switch (f) {
    case PeriodField::kReflection:
      return p.reflection_seconds();
    case PeriodField::kReferralAck:
      return p.referral_ack_seconds();
    case PeriodField::kTravelNotice:
      return p.travel_notice_working_days();
    case PeriodField::kArrivalConfirmation:
      return p.arrival_confirmation_seconds();
    case PeriodField::kMonitoringEvery:
      return p.monitoring_every_seconds();
    case PeriodField::kMonitoringFor:
      return p.monitoring_for_seconds();
  }
  return 0;
}

void Set(v1::CasePeriods& p, PeriodField f, uint64_t v) {
  switch (f) {
    case PeriodField::kReflection:
      return p.set_reflection_seconds(v);
    case PeriodField::kReferralAck:
      return p.set_referral_ack_seconds(v);
    case PeriodField::kTravelNotice:
      return p.set_travel_notice_working_days(static_cast<uint32_t>(v));
    case PeriodField::kArrivalConfirmation:
      return p.set_arrival_confirmation_seconds(v);
    case PeriodField::kMonitoringEvery:
      return p.set_monitoring_every_seconds(v);
    case PeriodField::kMonitoringFor:
      return p.set_monitoring_for_seconds(v);
  }
}

// The resolved value of a field, in seconds (working days as a count).
uint64_t Value(const CasePolicy& p, PeriodField f) {
  auto s = [](absl::Duration d) {
    return static_cast<uint64_t>(absl::ToInt64Seconds(d));
  };
  switch (f) {
    case PeriodField::kReflection:
      return s(p.reflection_min);
    case PeriodField::kReferralAck:
      return s(p.referral_ack_within);
    case PeriodField::kTravelNotice:
      return static_cast<uint64_t>(p.travel_notice_working_days);
    case PeriodField::kArrivalConfirmation:
      return s(p.arrival_confirmation_within);
    case PeriodField::kMonitoringEvery:
      return s(p.monitoring_every);
    case PeriodField::kMonitoringFor:
      return s(p.monitoring_for);
  }
  return 0;
}

void SetValue(CasePolicy& p, PeriodField f, uint64_t v) {
  const absl::Duration d = absl::Seconds(static_cast<int64_t>(v));
  switch (f) {
    case PeriodField::kReflection:
      p.reflection_min = d;
      return;
    case PeriodField::kReferralAck:
      p.referral_ack_within = d;
      return;
    case PeriodField::kTravelNotice:
      p.travel_notice_working_days = static_cast<int>(v);
      return;
    case PeriodField::kArrivalConfirmation:
      p.arrival_confirmation_within = d;
      return;
    case PeriodField::kMonitoringEvery:
      p.monitoring_every = d;
      return;
    case PeriodField::kMonitoringFor:
      p.monitoring_for = d;
      return;
  }
}

// "72h", or "5 working days".
std::string Show(PeriodField f, uint64_t v) {
  if (f == PeriodField::kTravelNotice) return absl::StrCat(v, " working days");
  return absl::FormatDuration(absl::Seconds(static_cast<int64_t>(v)));
}

// `base` with the fields `over` sets.
CasePolicy Overlay(CasePolicy base, const v1::CasePeriods& over) {
  for (PeriodField f : kAllPeriodFields) {
    if (uint64_t v = Get(over, f); v != 0) SetValue(base, f, v);
  }
  return base;
}

bool IsPair(absl::string_view route) {
  return route.find('>') != absl::string_view::npos;
}

// A route's JSON path: "countries.NG" or "pairs.BG>NG".
std::string RoutePath(absl::string_view route) {
  return absl::StrCat(IsPair(route) ? "pairs." : "countries.", route);
}

absl::Status CheckRoute(absl::string_view route) {
  const size_t gt = route.find('>');
  if (gt == absl::string_view::npos) {
    if (route.empty()) return absl::InvalidArgumentError("an empty country");
    return absl::OkStatus();
  }
  if (gt == 0 || gt + 1 == route.size() ||
      route.find('>', gt + 1) != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", route, "\" is not a pair such as \"BG>NG\""));
  }
  return absl::OkStatus();
}

// The limits every resolved route must keep.
std::string Unfit(const CasePolicy& p) {
  if (p.reflection_min < kMinReflection) {
    return "\"reflection\" must be at least 720h (30 days, Council of Europe "
           "Convention art. 13)";
  }
  if (p.travel_notice_working_days > kMaxTravelNoticeDays) {
    return "\"travel_notice_working_days\" must be at most 60";
  }
  if (p.monitoring_for > kMaxMonitoring ||
      p.monitoring_for < p.monitoring_every) {
    return "\"monitoring_for\" must be between \"monitoring_every\" and "
           "26280h (36 months)";
  }
  return "";
}

// The policy `policies` applies at `route`'s own level: a country's without
// looking at pairs.
const CasePolicy& AtLevel(const CasePolicies& policies,
                          absl::string_view route) {
  if (route.empty()) return policies.defaults;
  if (IsPair(route)) {
    const size_t gt = route.find('>');
    return policies.For(route.substr(0, gt), route.substr(gt + 1));
  }
  auto it = policies.countries.find(route);
  return it == policies.countries.end() ? policies.defaults : it->second;
}

CasePolicy Stricter(const CasePolicy& local, const CasePolicy& federation,
                    uint64_t version) {
  CasePolicy out = federation;
  out.policy_version = version;
  out.local_fields = 0;
  for (PeriodField f : kAllPeriodFields) {
    const uint64_t l = Value(local, f), g = Value(federation, f);
    if (LongerIsStricter(f) ? l > g : l < g) {
      SetValue(out, f, l);
      out.local_fields |= 1u << static_cast<int>(f);
    }
  }
  return out;
}

}  // namespace

absl::string_view PeriodName(PeriodField f) {
  switch (f) {
    case PeriodField::kReflection:
      return "reflection";
    case PeriodField::kReferralAck:
      return "referral_ack";
    case PeriodField::kTravelNotice:
      return "travel_notice_working_days";
    case PeriodField::kArrivalConfirmation:
      return "arrival_confirmation";
    case PeriodField::kMonitoringEvery:
      return "monitoring_every";
    case PeriodField::kMonitoringFor:
      return "monitoring_for";
  }
  return "";
}

const CasePolicy& CasePolicies::For(absl::string_view from_country,
                                    absl::string_view to_country) const {
  if (auto it = pairs.find(absl::StrCat(from_country, ">", to_country));
      it != pairs.end()) {
    return it->second;
  }
  if (auto it = countries.find(to_country); it != countries.end()) {
    return it->second;
  }
  return defaults;
}

const CasePolicy& CasePolicies::ForNodes(const directory::Directory& dir,
                                         const std::string& from_node,
                                         const std::string& to_node) const {
  if (pairs.empty() && countries.empty()) return defaults;
  auto country = [&](const std::string& node) -> const std::string& {
    const v1::DirectoryNode* n = dir.FindNode(node);
    return n == nullptr || n->country().empty() ? node : n->country();
  };
  return For(country(from_node), country(to_node));
}

absl::Status PeriodsFromJson(const jsonio::JsonReader& r,
                             v1::CasePeriods* out) {
  RETURN_IF_ERROR(
      r.Keys({"reflection", "referral_ack", "travel_notice_working_days",
              "arrival_confirmation", "monitoring_every", "monitoring_for"}));
  for (PeriodField f : kAllPeriodFields) {
    const std::string key(PeriodName(f));
    if (!r.Has(key.c_str())) continue;
    if (f == PeriodField::kTravelNotice) {
      uint64_t days = 0;
      RETURN_IF_ERROR(r.UInt(key.c_str(), &days));
      if (days == 0 || days > kMaxTravelNoticeDays) {
        return r.Bad(absl::StrCat("\"", key,
                                  "\" must be at least 1 and at most ",
                                  kMaxTravelNoticeDays));
      }
      Set(*out, f, days);
      continue;
    }
    const json& v = r.value().at(key);
    absl::Duration d;
    if (!v.is_string() || !absl::ParseDuration(v.get<std::string>(), &d) ||
        d < absl::Seconds(1) || d != absl::Seconds(absl::ToInt64Seconds(d))) {
      return r.Bad(absl::StrCat("\"", key,
                                "\" must be a positive duration in whole "
                                "seconds, such as \"72h\" or \"2160h\""));
    }
    Set(*out, f, static_cast<uint64_t>(absl::ToInt64Seconds(d)));
  }
  return absl::OkStatus();
}

absl::Status RulesFromJson(const jsonio::JsonReader& r,
                           v1::FederationPolicy* out) {
  if (r.Has("periods")) {
    ASSIGN_OR_RETURN(jsonio::JsonReader p, r.Object("periods"));
    RETURN_IF_ERROR(PeriodsFromJson(p, out->mutable_defaults()));
  }
  for (const char* level : {"countries", "pairs"}) {
    if (!r.Has(level)) continue;
    ASSIGN_OR_RETURN(jsonio::JsonReader routes, r.Object(level));
    const bool pairs = std::string(level) == "pairs";
    for (const auto& [key, value] : routes.value().items()) {
      if (!key.empty() && key[0] == '_') continue;
      if (CheckRoute(key).ok() != true || IsPair(key) != pairs) {
        return routes.Bad(absl::StrCat(
            "\"", key, "\" is not ",
            pairs ? "a pair such as \"BG>NG\"" : "a country such as \"NG\""));
      }
      ASSIGN_OR_RETURN(jsonio::JsonReader one, routes.Object(key.c_str()));
      v1::RoutePeriods* rp = out->add_routes();
      rp->set_route(key);
      RETURN_IF_ERROR(PeriodsFromJson(one, rp->mutable_periods()));
    }
  }
  return absl::OkStatus();
}

json RulesToJson(const v1::FederationPolicy& p) {
  auto periods = [](const v1::CasePeriods& c) {
    json j = json::object();
    for (PeriodField f : kAllPeriodFields) {
      const uint64_t v = Get(c, f);
      if (v == 0) continue;
      if (f == PeriodField::kTravelNotice) {
        j[std::string(PeriodName(f))] = v;
      } else {
        j[std::string(PeriodName(f))] =
            absl::FormatDuration(absl::Seconds(static_cast<int64_t>(v)));
      }
    }
    return j;
  };
  json j = json::object();
  if (p.has_defaults()) j["periods"] = periods(p.defaults());
  for (const v1::RoutePeriods& r : p.routes()) {
    j[IsPair(r.route()) ? "pairs" : "countries"][r.route()] =
        periods(r.periods());
  }
  return j;
}

absl::StatusOr<CasePolicies> Resolve(const v1::FederationPolicy& p,
                                     absl::string_view where,
                                     absl::string_view reason) {
  auto bad = [&](absl::string_view path, absl::string_view what) {
    return Error(
        absl::StatusCode::kInvalidArgument, reason,
        absl::StrCat(where, path.empty() ? "" : ".", path, ": ", what));
  };
  CasePolicies out;
  out.defaults = Overlay(CasePolicy{}, p.defaults());
  if (std::string e = Unfit(out.defaults); !e.empty()) {
    return bad("periods", e);
  }
  absl::flat_hash_set<std::string> seen;
  // Countries first: a pair builds on its recipient country.
  for (bool pairs : {false, true}) {
    for (const v1::RoutePeriods& r : p.routes()) {
      if (IsPair(r.route()) != pairs) continue;
      if (absl::Status s = CheckRoute(r.route()); !s.ok()) {
        return bad(pairs ? "pairs" : "countries", s.message());
      }
      if (!seen.insert(r.route()).second) {
        return bad(RoutePath(r.route()), "given twice; give each route once");
      }
      const CasePolicy& base =
          pairs ? AtLevel(out, r.route().substr(r.route().find('>') + 1))
                : out.defaults;
      CasePolicy resolved = Overlay(base, r.periods());
      if (std::string e = Unfit(resolved); !e.empty()) {
        return bad(RoutePath(r.route()), e);
      }
      (pairs ? out.pairs : out.countries)[r.route()] = resolved;
    }
  }
  return out;
}

CasePolicies Merge(const CasePolicies& local, const CasePolicies& federation,
                   uint64_t federation_version) {
  CasePolicies out;
  out.defaults =
      Stricter(local.defaults, federation.defaults, federation_version);
  // Every route either side names: elsewhere both sides fall back alike.
  for (const auto* side : {&local, &federation}) {
    for (const auto& [route, unused] : side->countries) {
      out.countries[route] =
          Stricter(AtLevel(local, route), AtLevel(federation, route),
                   federation_version);
    }
    for (const auto& [route, unused] : side->pairs) {
      out.pairs[route] =
          Stricter(AtLevel(local, route), AtLevel(federation, route),
                   federation_version);
    }
  }
  return out;
}

absl::Status CheckNotLooser(const v1::FederationPolicy& local,
                            const v1::FederationPolicy& federation,
                            absl::string_view where) {
  if (federation.version() == 0) return absl::OkStatus();
  absl::StatusOr<CasePolicies> fed =
      Resolve(federation, "policy", "DIRECTORY_INVALID");
  if (!fed.ok()) return fed.status();
  auto check = [&](absl::string_view route, const std::string& path,
                   const v1::CasePeriods& set) -> absl::Status {
    const CasePolicy& theirs = AtLevel(*fed, route);
    for (PeriodField f : kAllPeriodFields) {
      const uint64_t mine = Get(set, f);
      if (mine == 0) continue;
      const uint64_t limit = Value(theirs, f);
      const bool looser = LongerIsStricter(f) ? mine < limit : mine > limit;
      if (!looser) continue;
      return Error(
          absl::StatusCode::kFailedPrecondition,
          "POLICY_LOOSER_THAN_FEDERATION",
          absl::StrCat(
              where, ".", path, ".", PeriodName(f), " is ", Show(f, mine),
              ", looser than the federation's ", Show(f, limit),
              " (policy version ", federation.version(),
              " in the signed directory). A node may be stricter than the "
              "federation's policy, never looser: remove the setting or make "
              "it ",
              Show(f, limit),
              LongerIsStricter(f) ? " or longer" : " or shorter",
              " (docs/workflow.md, \"Periods per country and per pair\")"));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(check("", "periods", local.defaults()));
  for (const v1::RoutePeriods& r : local.routes()) {
    RETURN_IF_ERROR(check(r.route(), RoutePath(r.route()), r.periods()));
  }
  return absl::OkStatus();
}

std::vector<std::string> DiffPolicy(const v1::FederationPolicy& a,
                                    const v1::FederationPolicy& b) {
  std::vector<std::string> out;
  if (a.version() != b.version()) {
    out.push_back(
        absl::StrCat("~ policy version ", a.version(), " -> ", b.version()));
  }
  auto show = [](PeriodField f, uint64_t v) {
    return v == 0 ? std::string("(not set)") : Show(f, v);
  };
  auto periods = [&](const std::string& path, const v1::CasePeriods& x,
                     const v1::CasePeriods& y) {
    for (PeriodField f : kAllPeriodFields) {
      if (Get(x, f) == Get(y, f)) continue;
      out.push_back(absl::StrCat("~ policy ", path, ".", PeriodName(f), ": ",
                                 show(f, Get(x, f)), " -> ",
                                 show(f, Get(y, f))));
    }
  };
  periods("periods", a.defaults(), b.defaults());
  auto find = [](const v1::FederationPolicy& p, const std::string& route) {
    for (const v1::RoutePeriods& r : p.routes()) {
      if (r.route() == route) return &r.periods();
    }
    return static_cast<const v1::CasePeriods*>(nullptr);
  };
  for (const v1::RoutePeriods& r : a.routes()) {
    const v1::CasePeriods* other = find(b, r.route());
    if (other == nullptr) {
      out.push_back(absl::StrCat("- policy ", RoutePath(r.route())));
    } else {
      periods(RoutePath(r.route()), r.periods(), *other);
    }
  }
  for (const v1::RoutePeriods& r : b.routes()) {
    if (find(a, r.route()) != nullptr) continue;
    out.push_back(absl::StrCat("+ policy ", RoutePath(r.route())));
    periods(RoutePath(r.route()), v1::CasePeriods(), r.periods());
  }
  if (a.max_retention_seconds() != b.max_retention_seconds()) {
    auto s = [](uint64_t v) {
      return v == 0
                 ? std::string("(each node's own)")
                 : absl::FormatDuration(absl::Seconds(static_cast<int64_t>(v)));
    };
    out.push_back(
        absl::StrCat("~ policy max_retention: ", s(a.max_retention_seconds()),
                     " -> ", s(b.max_retention_seconds())));
  }
  for (auto [name, x, y, fallback] :
       {std::tuple{"directory_warn", a.directory_warn_seconds(),
                   b.directory_warn_seconds(), "(336h)"},
        std::tuple{"directory_grace", a.directory_grace_seconds(),
                   b.directory_grace_seconds(), "(168h)"}}) {
    if (x == y) continue;
    // (A structured binding is not captured: clang 15 refuses it.)
    auto s = [](uint64_t v, const char* when_unset) {
      return v == 0
                 ? std::string(when_unset)
                 : absl::FormatDuration(absl::Seconds(static_cast<int64_t>(v)));
    };
    out.push_back(absl::StrCat("~ policy ", name, ": ", s(x, fallback), " -> ",
                               s(y, fallback)));
  }
  if (a.contingency().failed_link() != b.contingency().failed_link()) {
    out.push_back(absl::StrCat("~ policy contingency.failed_link: ",
                               FailedLinkRuleName(a.contingency()), " -> ",
                               FailedLinkRuleName(b.contingency())));
  }
  for (auto [name, x, y] :
       {std::tuple{"deadline_extension",
                   a.contingency().deadline_extension_seconds(),
                   b.contingency().deadline_extension_seconds()},
        std::tuple{"lifetime_extension",
                   a.contingency().lifetime_extension_seconds(),
                   b.contingency().lifetime_extension_seconds()}}) {
    if (x == y) continue;
    // (A structured binding is not captured: clang 15 refuses it.)
    auto s = [](uint64_t v) {
      return v == 0
                 ? std::string("(none)")
                 : absl::FormatDuration(absl::Seconds(static_cast<int64_t>(v)));
    };
    out.push_back(
        absl::StrCat("~ policy contingency.", name, ": ", s(x), " -> ", s(y)));
  }
  auto urgent = [](const v1::ContingencyRules& r) {
    std::vector<std::string> names;
    for (int t : r.urgent_types()) {
      names.push_back(v1::MessageType_Name(static_cast<v1::MessageType>(t)));
    }
    return names.empty() ? std::string("(none)") : absl::StrJoin(names, ",");
  };
  if (urgent(a.contingency()) != urgent(b.contingency())) {
    out.push_back(absl::StrCat(
        "~ policy contingency.urgent_types: ", urgent(a.contingency()), " -> ",
        urgent(b.contingency())));
  }
  if (a.statistics_min_cell() != b.statistics_min_cell()) {
    auto k = [](uint32_t v) {
      return v == 0 ? std::string("(5)") : absl::StrCat(v);
    };
    out.push_back(absl::StrCat(
        "~ policy statistics_min_cell: ", k(a.statistics_min_cell()), " -> ",
        k(b.statistics_min_cell())));
  }
  return out;
}

std::optional<v1::FailedLinkRule> FailedLinkRuleOf(absl::string_view name) {
  if (name == "pause") return v1::FAILED_LINK_PAUSE;
  if (name == "escalate_to_coordinators") {
    return v1::FAILED_LINK_ESCALATE_TO_COORDINATORS;
  }
  return std::nullopt;
}

std::string FailedLinkRuleName(const v1::ContingencyRules& rules) {
  switch (rules.failed_link()) {
    case v1::FAILED_LINK_PAUSE:
      return "pause";
    case v1::FAILED_LINK_ESCALATE_TO_COORDINATORS:
      return "escalate_to_coordinators";
    default:
      return "(escalate_to_coordinators)";
  }
}

}  // namespace trm::cases
