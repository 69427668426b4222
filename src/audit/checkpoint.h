// Signed checkpoints: every `checkpoint_every` records and at shutdown the journal signs the
// seq and hash of its last record with the gateway's Ed25519 key. A checkpoint copied off the
// machine pins the journal up to that record: nobody can rewrite it without the copy showing.
#pragma once

#include <openssl/evp.h>

#include <string>

#include "common/result.h"
#include "identity/signing_key.h"
#include "store/journal_store.h"

namespace portcullis::audit {

using Checkpoint = store::JournalCheckpoint;

// "portcullis-checkpoint-v1\nseq:<seq>\nhash:<hash>\ntime:<time>\ninstance:<instance>\n".
std::string checkpoint_signing_input(const Checkpoint& checkpoint);

// Fills key_id and signature.
Result<void> sign_checkpoint(Checkpoint& checkpoint, const identity::SigningKey& key);
// True when the signature is the key's over the checkpoint's fields.
bool checkpoint_signature_valid(const Checkpoint& checkpoint, EVP_PKEY* key);

// One JSON object: {"checkpoint": {seq, hash, time, instance, key_id, signature}}, the form
// exporters write so that checkpoints travel with the events.
std::string checkpoint_to_json(const Checkpoint& checkpoint);

}  // namespace portcullis::audit
