# One man page: help2man -> OUT, from TOOL's --help and --version, then
# OUT.gz (gzip -9n, as Debian ships man pages). uvmctl's page also holds
# `uvmctl run --help` (the scenario ops).
# cmake -DHELP2MAN=... -DTOOL=... -DSECTION=... -DSUMMARY=... -DOUT=... -P man_page.cmake
set(args --no-info --section=${SECTION} --name=${SUMMARY} --output=${OUT})
get_filename_component(name "${TOOL}" NAME)
if(name STREQUAL "uvmctl")
  execute_process(COMMAND "${TOOL}" run --help OUTPUT_VARIABLE run_help COMMAND_ERROR_IS_FATAL ANY)
  file(WRITE "${OUT}.include" "[UVMCTL RUN]\n.nf\n${run_help}\n.fi\n")
  list(APPEND args --include=${OUT}.include)
endif()
execute_process(COMMAND "${HELP2MAN}" ${args} "${TOOL}" COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND gzip -9nf "${OUT}" COMMAND_ERROR_IS_FATAL ANY)
