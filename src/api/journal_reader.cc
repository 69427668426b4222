// The API's journal connection and its worker thread.
#include "api/journal_reader.h"

namespace portcullis::api {

Result<std::unique_ptr<JournalReader>> JournalReader::open(std::string_view state_url,
                                                           std::string instance) {
  store::JournalStoreOptions options;
  options.instance = std::move(instance);
  auto store = store::open_journal_store(state_url, options);
  if (!store) return store.error();
  return std::unique_ptr<JournalReader>(new JournalReader(std::move(*store)));
}

JournalReader::~JournalReader() {
  stop();
}

void JournalReader::stop() {
  worker_.stop();
  worker_.join();
}

}  // namespace portcullis::api
