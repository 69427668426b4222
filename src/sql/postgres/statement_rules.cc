// The statement table of PostgreSQL 15 (src/include/nodes/parsenodes.h); the classes are
// documented in docs/policy.md, "Statement classification".
#include "sql/postgres/statement_rules.h"

#include <utility>

#include "sql/postgres/parse_tree.h"

namespace portcullis::sql::postgres {

std::string snake_kind(std::string_view type) {
  if (type.ends_with("Stmt")) type.remove_suffix(4);
  std::string out;
  for (std::size_t i = 0; i < type.size(); ++i) {
    char c = type[i];
    bool upper = c >= 'A' && c <= 'Z';
    if (upper && i > 0) {
      char prev = type[i - 1];
      bool prev_lower = (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9');
      bool next_lower = i + 1 < type.size() && type[i + 1] >= 'a' && type[i + 1] <= 'z';
      bool prev_upper = prev >= 'A' && prev <= 'Z';
      if (prev_lower || (prev_upper && next_lower)) out.push_back('_');
    }
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

namespace {

// Kinds and classes of every PostgreSQL 15 statement node whose classes do not depend on
// its contents. Statements decided in code (SELECT, COPY, SET, EXPLAIN, ...) are not here.
constexpr NodeRule kNodeRules[] = {
    {"InsertStmt", "insert", kWrite},
    {"UpdateStmt", "update", kWrite},
    {"DeleteStmt", "delete", kWrite},
    {"MergeStmt", "merge", kWrite},
    {"TruncateStmt", "truncate", kWrite},
    {"FetchStmt", "", kRead},
    {"CreateStmt", "create_table", kDdl},
    {"CreateForeignTableStmt", "", kDdl},
    {"IndexStmt", "create_index", kDdl},
    {"ViewStmt", "create_view", kDdl},
    {"CreateSeqStmt", "create_sequence", kDdl},
    {"AlterSeqStmt", "alter_sequence", kDdl},
    {"CreateTrigStmt", "create_trigger", kDdl},
    {"RuleStmt", "create_rule", kDdl},
    {"RefreshMatViewStmt", "refresh_materialized_view", kDdl},
    {"CreateStatsStmt", "create_statistics", kDdl},
    {"AlterStatsStmt", "alter_statistics", kDdl},
    {"CompositeTypeStmt", "create_type", kDdl},
    {"CreateEnumStmt", "", kDdl},
    {"CreateRangeStmt", "", kDdl},
    {"CreateDomainStmt", "", kDdl},
    {"CreateFunctionStmt", "", kDdl},
    {"CreateSchemaStmt", "", kDdl},
    {"CreateCastStmt", "", kDdl},
    {"CreateConversionStmt", "", kDdl},
    {"CreateOpClassStmt", "", kDdl},
    {"CreateOpFamilyStmt", "", kDdl},
    {"CreatePolicyStmt", "", kDdl},
    {"CreatePublicationStmt", "", kDdl},
    {"CreateTransformStmt", "", kDdl},
    {"AlterTableStmt", "alter_table", kDdl},
    {"AlterCollationStmt", "", kDdl},
    {"AlterDomainStmt", "", kDdl},
    {"AlterEnumStmt", "", kDdl},
    {"AlterFunctionStmt", "", kDdl},
    {"AlterObjectDependsStmt", "", kDdl},
    {"AlterObjectSchemaStmt", "", kDdl},
    {"AlterOpFamilyStmt", "", kDdl},
    {"AlterOperatorStmt", "", kDdl},
    {"AlterPolicyStmt", "", kDdl},
    {"AlterPublicationStmt", "", kDdl},
    {"AlterTSConfigurationStmt", "", kDdl},
    {"AlterTSDictionaryStmt", "", kDdl},
    {"AlterTypeStmt", "", kDdl},
    {"ReplicaIdentityStmt", "", kDdl},
    {"RenameStmt", "", kDdl},
    {"CommentStmt", "", kDdl},
    {"SecLabelStmt", "security_label", kDdl},
    {"AlterOwnerStmt", "", kDdl | kDcl},
    {"CreatedbStmt", "create_database", kDdl | kAdmin},
    {"DropdbStmt", "drop_database", kDdl | kAdmin},
    {"AlterDatabaseStmt", "", kDdl | kAdmin},
    {"AlterDatabaseSetStmt", "", kDdl | kAdmin},
    {"AlterDatabaseRefreshCollStmt", "", kDdl | kAdmin},
    {"CreateExtensionStmt", "", kDdl | kAdmin},
    {"AlterExtensionStmt", "", kDdl | kAdmin},
    {"AlterExtensionContentsStmt", "", kDdl | kAdmin},
    {"CreateEventTrigStmt", "create_event_trigger", kDdl | kAdmin},
    {"AlterEventTrigStmt", "alter_event_trigger", kDdl | kAdmin},
    {"CreatePLangStmt", "create_language", kDdl | kAdmin},
    {"CreateAmStmt", "create_access_method", kDdl | kAdmin},
    {"CreateFdwStmt", "create_foreign_data_wrapper", kDdl | kAdmin},
    {"AlterFdwStmt", "alter_foreign_data_wrapper", kDdl | kAdmin},
    {"CreateForeignServerStmt", "", kDdl | kAdmin},
    {"AlterForeignServerStmt", "", kDdl | kAdmin},
    {"CreateUserMappingStmt", "", kDdl | kAdmin},
    {"AlterUserMappingStmt", "", kDdl | kAdmin},
    {"DropUserMappingStmt", "", kDdl | kAdmin},
    {"ImportForeignSchemaStmt", "", kDdl | kAdmin},
    {"CreateSubscriptionStmt", "", kDdl | kAdmin},
    {"AlterSubscriptionStmt", "", kDdl | kAdmin},
    {"DropSubscriptionStmt", "", kDdl | kAdmin},
    {"CreateTableSpaceStmt", "create_tablespace", kDdl | kAdmin},
    {"DropTableSpaceStmt", "drop_tablespace", kDdl | kAdmin},
    {"AlterTableSpaceOptionsStmt", "alter_tablespace", kDdl | kAdmin},
    {"AlterTableMoveAllStmt", "alter_table_move_all", kDdl | kAdmin},
    {"CreateRoleStmt", "", kDcl},
    {"AlterRoleStmt", "", kDcl},
    {"AlterRoleSetStmt", "", kDcl},
    {"DropRoleStmt", "", kDcl},
    {"AlterDefaultPrivilegesStmt", "", kDcl},
    {"ReassignOwnedStmt", "", kDcl | kDdl},
    {"DropOwnedStmt", "", kDcl | kDdl},
    {"AlterSystemStmt", "", kAdmin},
    {"LoadStmt", "", kAdmin},
    {"CheckPointStmt", "checkpoint", kAdmin},
    {"ClusterStmt", "", kAdmin},
    {"ReindexStmt", "", kAdmin},
    {"DoStmt", "", kAdmin},
    {"CallStmt", "", kAdmin},
    {"ConstraintsSetStmt", "set_constraints", kTransaction},
    {"DiscardStmt", "", kSession},
    {"ListenStmt", "", kSession},
    {"UnlistenStmt", "", kSession},
    {"NotifyStmt", "", kSession},
    {"DeallocateStmt", "", kSession},
};

}  // namespace

const NodeRule* find_rule(std::string_view type) {
  for (const auto& r : kNodeRules) {
    if (r.type == type) return &r;
  }
  return nullptr;
}

std::string object_kind(std::string_view objtype) {
  if (objtype.starts_with("OBJECT_")) objtype.remove_prefix(7);
  static constexpr std::pair<std::string_view, std::string_view> kNames[] = {
      {"MATVIEW", "materialized_view"},  {"FDW", "foreign_data_wrapper"},
      {"OPCLASS", "op_class"},           {"OPFAMILY", "op_family"},
      {"STATISTIC_EXT", "statistics"},   {"TSCONFIGURATION", "ts_configuration"},
      {"TSDICTIONARY", "ts_dictionary"}, {"TSPARSER", "ts_parser"},
      {"TSTEMPLATE", "ts_template"},
  };
  for (const auto& [from, to] : kNames) {
    if (objtype == from) return std::string(to);
  }
  return lower(objtype);
}

bool is_relation_object(std::string_view objtype) {
  return objtype == "OBJECT_TABLE" || objtype == "OBJECT_VIEW" || objtype == "OBJECT_MATVIEW" ||
         objtype == "OBJECT_INDEX" || objtype == "OBJECT_SEQUENCE" ||
         objtype == "OBJECT_FOREIGN_TABLE";
}

bool is_server_object(std::string_view objtype) {
  return objtype == "OBJECT_EXTENSION" || objtype == "OBJECT_EVENT_TRIGGER" ||
         objtype == "OBJECT_FOREIGN_SERVER" || objtype == "OBJECT_FDW" ||
         objtype == "OBJECT_LANGUAGE" || objtype == "OBJECT_ACCESS_METHOD" ||
         objtype == "OBJECT_USER_MAPPING";
}

}  // namespace portcullis::sql::postgres
