// `audit`: how durable the journal is, how much of each result it keeps, checkpoints and
// exporters.
#include <fmt/format.h>

#include "config/sections.h"

namespace portcullis::config {
namespace {

constexpr std::array<EnumName<AuditDurability>, 2> kAuditDurabilities{{
    {"strict", AuditDurability::strict},
    {"batched", AuditDurability::batched},
}};

constexpr std::size_t kMinSegmentSize = 64u << 10;
constexpr std::size_t kMaxSegmentSize = 1u << 30;

}  // namespace

void default_journal_dir(Reader& r, std::string_view state_url, AuditConfig& audit) {
  if (audit.journal_dir.empty()) {
    constexpr std::string_view kSqlite = "sqlite://";
    if (state_url.starts_with(kSqlite))
      audit.journal_dir =
          std::filesystem::path(state_url.substr(kSqlite.size())).parent_path() / "journal";
    else
      audit.journal_dir = r.resolve("var/journal");
  }
  if (audit.recordings_dir.empty())
    audit.recordings_dir = audit.journal_dir.parent_path() / "recordings";
}

void read_audit(Reader& r, const Value& v, AuditConfig& audit) {
  Fields f = r.fields(v, {"durability", "record_results", "checkpoint_every", "exporters",
                          "journal_dir", "recordings_dir", "segment_size"});
  if (const Value* x = f.find("journal_dir")) {
    if (auto p = r.read_path(*x)) audit.journal_dir = *p;
  }
  if (const Value* x = f.find("recordings_dir")) {
    if (auto p = r.read_path(*x)) audit.recordings_dir = *p;
  }
  if (const Value* x = f.find("segment_size")) {
    if (auto n = r.read_size(*x)) {
      if (*n < kMinSegmentSize || *n > kMaxSegmentSize)
        r.problem(*x, fmt::format("{}: a segment is between 64KiB and 1GiB", x->path));
      else
        audit.segment_size = *n;
    }
  }
  if (const Value* x = f.find("durability")) {
    if (auto d = r.read_enum(*x, kAuditDurabilities)) audit.durability = *d;
  }
  if (const Value* x = f.find("record_results")) {
    Fields results = r.fields(*x, {"max_rows", "max_bytes"});
    if (const Value* y = results.find("max_rows")) {
      if (auto n = r.read_count(*y, 0)) audit.record_results.max_rows = *n;
    }
    if (const Value* y = results.find("max_bytes")) {
      if (auto n = r.read_size(*y)) audit.record_results.max_bytes = *n;
    }
  }
  if (const Value* x = f.find("checkpoint_every")) {
    if (auto n = r.read_count(*x, 1)) audit.checkpoint_every = *n;
  }
  if (const Value* x = f.find("exporters")) {
    r.for_each_item(*x, [&](const Value& item) {
      Fields e = r.fields(item, {"kind", "path"});
      AuditExporterConfig exporter;
      exporter.line = e.line();
      if (!r.require_name(e, "kind", exporter.kind)) return;
      if (exporter.kind != "jsonl") {
        r.problem(*e.find("kind"), fmt::format("{}.kind: exporter kind \"{}\" is not supported yet "
                                               "(supported: jsonl)",
                                               item.path, exporter.kind));
        return;
      }
      const Value* path = e.find("path");
      if (path == nullptr) {
        r.problem(e.line(), fmt::format("{}: missing required key \"path\"", item.path));
        return;
      }
      if (auto p = r.read_path(*path)) {
        exporter.path = *p;
        audit.exporters.push_back(std::move(exporter));
      }
    });
  }
}

}  // namespace portcullis::config
