// Signing and checking journal checkpoints.
#include "audit/checkpoint.h"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "identity/base64url.h"
#include "identity/jws.h"

namespace portcullis::audit {

std::string checkpoint_signing_input(const Checkpoint& checkpoint) {
  return fmt::format("portcullis-checkpoint-v1\nseq:{}\nhash:{}\ntime:{}\ninstance:{}\n",
                     checkpoint.seq, checkpoint.hash, checkpoint.time, checkpoint.instance);
}

Result<void> sign_checkpoint(Checkpoint& checkpoint, const identity::SigningKey& key) {
  auto signature = identity::sign_jws(identity::JwsAlgorithm::eddsa, key.pkey(),
                                      checkpoint_signing_input(checkpoint));
  if (!signature)
    return make_error("cannot sign a journal checkpoint: " + signature.error().message);
  checkpoint.key_id = key.key_id();
  checkpoint.signature = identity::base64url_encode(*signature);
  return {};
}

bool checkpoint_signature_valid(const Checkpoint& checkpoint, EVP_PKEY* key) {
  auto signature = identity::base64url_decode(checkpoint.signature);
  if (!signature) return false;
  return identity::verify_jws_signature(identity::JwsAlgorithm::eddsa, key,
                                        checkpoint_signing_input(checkpoint), *signature);
}

std::string checkpoint_to_json(const Checkpoint& checkpoint) {
  boost::json::object inner;
  inner["seq"] = checkpoint.seq;
  inner["hash"] = checkpoint.hash;
  inner["time"] = checkpoint.time;
  inner["instance"] = checkpoint.instance;
  inner["key_id"] = checkpoint.key_id;
  inner["signature"] = checkpoint.signature;
  boost::json::object outer;
  outer["checkpoint"] = std::move(inner);
  return boost::json::serialize(outer);
}

}  // namespace portcullis::audit
