#include "client/agent/console_server.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace trm::agent {
namespace {

const char* TypeOf(const std::string& path) {
  if (absl::EndsWith(path, ".html")) return "text/html; charset=utf-8";
  if (absl::EndsWith(path, ".js")) return "text/javascript; charset=utf-8";
  if (absl::EndsWith(path, ".css")) return "text/css; charset=utf-8";
  if (absl::EndsWith(path, ".json")) return "application/json";
  if (absl::EndsWith(path, ".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

}  // namespace

std::string SessionCookie(const std::string& token, bool secure) {
  return absl::StrCat(
      kSessionCookie, "=", token, "; Path=/; HttpOnly; SameSite=Strict",
      token.empty() ? "; Max-Age=0" : "", secure ? "; Secure" : "");
}

void InstallConsole(httplib::Server& server) {
  auto files = std::make_shared<std::map<std::string, std::string_view>>();
  for (const ConsoleFile& f : ConsoleFiles()) (*files)[f.path] = f.body;
  auto serve = [files](const std::string& path, httplib::Response& res) {
    auto it = files->find(path);
    if (it == files->end()) {
      res.status = 404;  // the error handler writes the JSON body
      return;
    }
    res.headers.erase("Content-Security-Policy");
    res.set_header("Content-Security-Policy", kConsolePolicy);
    res.set_content(std::string(it->second), TypeOf(path));
  };
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("/console/");
  });
  server.Get("/console/",
             [serve](const httplib::Request&, httplib::Response& res) {
               serve("index.html", res);
             });
  server.Get(R"(/console/([a-z0-9_/-]+\.(html|js|css|json|svg)))",
             [serve](const httplib::Request& req, httplib::Response& res) {
               serve(req.matches[1], res);
             });
}

}  // namespace trm::agent
