// SPDX-License-Identifier: Apache-2.0
//
// The server's endpoints (include/sihlicon/server.hpp), without any HTTP machinery: the
// connection code (server.cpp) hands over what it has read and writes back what it gets.
// Two steps per request, so that nothing of a refused request's body is ever read:
//   admit(): after the header — authentication, route, method, role;
//   handle(): after the body — the endpoint itself, over the hub's public API.
// Not installed.
#pragma once

#include <sihlicon/error.hpp>
#include <sihlicon/tokens.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sihlicon {
class Hub;
}

namespace sihlicon::server {

struct Response {
    int status = 200;
    std::string body;  // JSON
    std::vector<std::pair<std::string, std::string>> headers;
};

// What admit() found out about a request, for handle() and the access log.
struct Admission {
    std::optional<Identity> identity;  // nullopt for the endpoints that need no token
    int route = 0;                     // which endpoint (api.cpp's table)
    std::string path_parameter;        // the {jobId} of /api/compute/{jobId}
    std::string method;                // "GET", "POST", ...
    // Set when the request is refused before its body (401, 403, 404, 405).
    std::optional<Response> refusal;
};

// The contract's error body {"error": message, "details": details} (details omitted when
// null) with `status`.
Response error_response(int status, std::string_view message, std::string_view details_json = {});

// The response for a library error: the status from the one ErrorCode -> status table, the
// message and {"code", "field"} as details; integrity, io and internal errors become a bare
// 500 "internal server error" (their messages may name files and are not the client's).
// quota_exceeded (429) carries Retry-After.
Response response_for(const Error& error);

class Api {
  public:
    explicit Api(Hub& hub);

    // Decides whether a request may proceed to its body. `authorization` and `cookie` are the
    // header values (empty when absent). The admission's refusal is set when it may not.
    Admission admit(std::string_view method, std::string_view target,
                    std::string_view authorization, std::string_view cookie) const;

    // Runs an admitted request. Never throws: every failure is a Response.
    Response handle(const Admission& admission, std::string_view target,
                    std::string_view body) const;

  private:
    Response run(const Admission& admission, std::string_view target, std::string_view body) const;
    Hub* hub_;
    ApiTokens tokens_;
    std::string instance_id_;
};

}  // namespace sihlicon::server
