# Runs `portcullis --version` and checks that it prints exactly EXPECTED and exits 0.
#   cmake -DPORTCULLIS=<binary> -DEXPECTED=<text> -P cli_version_test.cmake
execute_process(
  COMMAND "${PORTCULLIS}" --version
  OUTPUT_VARIABLE output
  ERROR_VARIABLE errors
  RESULT_VARIABLE status)
if(NOT status STREQUAL "0")
  message(FATAL_ERROR
    "portcullis --version exited with ${status}\nstdout: ${output}\nstderr: ${errors}")
endif()
if(NOT output STREQUAL "${EXPECTED}\n")
  message(FATAL_ERROR "portcullis --version printed\n${output}\nexpected\n${EXPECTED}")
endif()
if(NOT EXPECTED MATCHES "^portcullis [0-9]+\\.[0-9]+\\.[0-9]+ \\(commit ([0-9a-f]+|unknown)\\)$")
  message(FATAL_ERROR "unexpected version text: ${EXPECTED}")
endif()
