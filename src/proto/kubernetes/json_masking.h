// Masking of the JSON documents of Kubernetes API responses on their way to the client: Secret
// values are redacted for grants without the `secrets` class, and every other string value is
// masked with the grant's masking profile. Pure: one document in, one document out.
//
// What a Secret's values are replaced with, and where they are looked for:
// - `data` values become the base64 of `[redacted]` (the object is still a valid Secret, and
//   `base64 -d` shows why), `stringData` values become `[redacted]`; keys are kept.
// - The annotation `kubectl.kubernetes.io/last-applied-configuration`, and any other annotation
//   that holds a serialised object (a `"data"` or `"stringData"` member: tools such as kapp
//   keep the original manifest there), become `[redacted]`.
// - Any other string value of the document (the Secret's labels and annotations, a Table
//   row's cells, a ConfigMap beside it in a List) that contains one of the document's Secret
//   values of kMinEchoedValue bytes or more, in base64 or decoded, becomes `[redacted]`;
//   except the names below, a Table row's name, and a watch event's type.
// Secrets are found as objects of kind `Secret`, items of a `SecretList`, and, when the request
// was on the `secrets` resource, every object of the body (a Table's PartialObjectMetadata
// rows carry the last-applied annotation too). Lists, Tables and watch events are recursed.
//
// The masking profile sees every string value but the names kubectl needs unchanged: the
// fields apiVersion, kind, name, namespace, uid, resourceVersion, creationTimestamp,
// deletionTimestamp, generateName, selfLink, continue, and a watch event's type. A label,
// annotation or ConfigMap entry called `name` is content: its key is the user's word.
//
// Left out: a Secret's values in a response that holds no Secret (an Event's message, a Status
// from an admission webhook, a Pod's env copied from a Secret by hand) are found only by the
// masking profile; copies in another encoding (hex, URL escapes) are not looked for; object
// keys (a Secret's data keys, label keys) are never changed.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.h"
#include "masking/masker.h"

namespace portcullis::proto::kubernetes {

// Deeper documents are refused: Kubernetes objects nest about 15 levels (a Pod's probes in a
// Table row in a watch event); the bound keeps the recursion, and a hostile body, small.
inline constexpr std::size_t kMaxJsonDepth = 64;
// What replaces a redacted value, and its base64 for a Secret's `data`.
inline constexpr std::string_view kRedacted = "[redacted]";
inline constexpr std::string_view kRedactedBase64 = "W3JlZGFjdGVkXQ==";
// A Secret's value shorter than this is not looked for elsewhere in the object: "true", "80"
// or "prod" would redact unrelated strings that merely contain them.
inline constexpr std::size_t kMinEchoedValue = 6;

struct BodyRules {
  bool redact_secrets = true;  // the caller's grant lacks class `secrets`
  // The request was on the `secrets` resource: every object in the body is a Secret, whatever
  // its `kind` claims.
  bool all_secrets = false;
  const masking::Masker* masker = nullptr;  // the grant's masking profile; null: no masking
};

struct BodyCounts {
  masking::MaskCounts masked;     // detections of the masking profile
  std::size_t secret_values = 0;  // Secret values (and copies of them) redacted
};

// Rewrites one JSON document (an object, a list, a Table or a watch event). Returns the input
// bytes unchanged when nothing was redacted or masked. An error when `json` is not one JSON
// document or nests deeper than kMaxJsonDepth: the caller fails closed.
Result<std::string> mask_json_document(std::string_view json, const BodyRules& rules,
                                       masking::Scratch& scratch, BodyCounts& counts);

}  // namespace portcullis::proto::kubernetes
