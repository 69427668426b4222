// Names of the command bytes, for logs and errors.
#include "proto/mysql/capabilities.h"

#include <fmt/format.h>

namespace portcullis::proto::mysql {

std::string command_name(uint8_t code) {
  switch (static_cast<CommandCode>(code)) {
    case CommandCode::sleep:
      return "COM_SLEEP";
    case CommandCode::quit:
      return "COM_QUIT";
    case CommandCode::init_db:
      return "COM_INIT_DB";
    case CommandCode::query:
      return "COM_QUERY";
    case CommandCode::field_list:
      return "COM_FIELD_LIST";
    case CommandCode::create_db:
      return "COM_CREATE_DB";
    case CommandCode::drop_db:
      return "COM_DROP_DB";
    case CommandCode::refresh:
      return "COM_REFRESH";
    case CommandCode::shutdown:
      return "COM_SHUTDOWN";
    case CommandCode::statistics:
      return "COM_STATISTICS";
    case CommandCode::process_info:
      return "COM_PROCESS_INFO";
    case CommandCode::connect:
      return "COM_CONNECT";
    case CommandCode::process_kill:
      return "COM_PROCESS_KILL";
    case CommandCode::debug:
      return "COM_DEBUG";
    case CommandCode::ping:
      return "COM_PING";
    case CommandCode::time:
      return "COM_TIME";
    case CommandCode::delayed_insert:
      return "COM_DELAYED_INSERT";
    case CommandCode::change_user:
      return "COM_CHANGE_USER";
    case CommandCode::binlog_dump:
      return "COM_BINLOG_DUMP";
    case CommandCode::table_dump:
      return "COM_TABLE_DUMP";
    case CommandCode::connect_out:
      return "COM_CONNECT_OUT";
    case CommandCode::register_slave:
      return "COM_REGISTER_SLAVE";
    case CommandCode::stmt_prepare:
      return "COM_STMT_PREPARE";
    case CommandCode::stmt_execute:
      return "COM_STMT_EXECUTE";
    case CommandCode::stmt_send_long_data:
      return "COM_STMT_SEND_LONG_DATA";
    case CommandCode::stmt_close:
      return "COM_STMT_CLOSE";
    case CommandCode::stmt_reset:
      return "COM_STMT_RESET";
    case CommandCode::set_option:
      return "COM_SET_OPTION";
    case CommandCode::stmt_fetch:
      return "COM_STMT_FETCH";
    case CommandCode::daemon:
      return "COM_DAEMON";
    case CommandCode::binlog_dump_gtid:
      return "COM_BINLOG_DUMP_GTID";
    case CommandCode::reset_connection:
      return "COM_RESET_CONNECTION";
    case CommandCode::mariadb_stmt_bulk_execute:
      return "COM_STMT_BULK_EXECUTE";
    case CommandCode::mariadb_multi:
      return "COM_MULTI";
  }
  return fmt::format("COM_0x{:02x}", code);
}

}  // namespace portcullis::proto::mysql
