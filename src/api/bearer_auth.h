// Who is calling: the `Authorization: Bearer TOKEN` of a request, verified by the gateway's
// Authenticator — the one the PostgreSQL front end uses, so that a gateway token, OIDC JWT or
// API key is accepted or refused for the same reasons on both.
#pragma once

#include <chrono>
#include <string_view>

#include "api/context.h"
#include "common/result.h"
#include "common/secret.h"
#include "identity/identity.h"
#include "store/state_store.h"

namespace portcullis::api {

// The identity behind the request's Authorization header (its raw value; empty when absent).
// The error message is fit to show the caller and never holds the token.
Result<identity::Identity> authenticate_bearer(std::string_view authorization,
                                               const ApiContext& context, store::StateStore& state,
                                               std::chrono::system_clock::time_point now);

// The credential of a "Bearer CREDENTIAL" header value; empty for any other.
Secret bearer_credential(std::string_view authorization);

}  // namespace portcullis::api
