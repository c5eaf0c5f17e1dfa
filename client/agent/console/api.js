// The agent's JSON API, as the console calls it: the session is an
// HttpOnly cookie the page never sees; every change carries the session's
// CSRF token. An error is thrown as ApiError with the API's reason token,
// message and the request field it concerns.
export class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `HTTP ${status}`);
    this.status = status;
    this.reason = body.reason || "HTTP_" + status;
    this.path = body.path || "";
  }
}

let csrf = "";
export function setCsrf(token) {
  csrf = token || "";
}

export async function api(method, path, body) {
  const headers = {"Accept": "application/json"};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = csrf;
  let res;
  try {
    res = await fetch("/api/v1" + path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, {reason: "AGENT_UNREACHABLE", message: String(e)});
  }
  let out = {};
  try {
    out = await res.json();
  } catch (e) {
    out = {};
  }
  if (!res.ok) throw new ApiError(res.status, out);
  return out;
}
