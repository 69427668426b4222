// Names of the configuration model's enums, as written in portcullis.yaml.
#include "config/config.h"

namespace portcullis::config {

std::string_view to_string(ConnectionKind kind) {
  switch (kind) {
    case ConnectionKind::postgres:
      return "postgres";
    case ConnectionKind::mysql:
      return "mysql";
    case ConnectionKind::ssh:
      return "ssh";
    case ConnectionKind::kubernetes:
      return "kubernetes";
  }
  return "unknown";
}

}  // namespace portcullis::config
