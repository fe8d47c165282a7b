# uvmd's service files, the man pages and bash completion, installed with
# the rest (cmake/install.cmake), and the .deb that CPack makes of it all:
#   cmake --build build --target package   (or: cd build && cpack -G DEB)

# Installed with --strip (and so in the .deb): the archives lose their
# debug sections too, which are most of their size.
set(_uvm_strip_code [[
  if(CMAKE_INSTALL_DO_STRIP)
    file(GLOB _uvm_archives "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/@LIBDIR@/libuvm_*.a")
    foreach(_archive ${_uvm_archives})
      execute_process(COMMAND "@STRIP@" --strip-debug "${_archive}" COMMAND_ERROR_IS_FATAL ANY)
    endforeach()
  endif()
]])
string(REPLACE "@LIBDIR@" "${CMAKE_INSTALL_LIBDIR}" _uvm_strip_code "${_uvm_strip_code}")
string(REPLACE "@STRIP@" "${CMAKE_STRIP}" _uvm_strip_code "${_uvm_strip_code}")
install(CODE "${_uvm_strip_code}" COMPONENT library)

install(FILES dist/systemd/uvmd.service DESTINATION lib/systemd/system COMPONENT service)
# The config file belongs in /etc when the prefix is /usr (the .deb), as
# GNUInstallDirs' /etc rule says; under another prefix, in PREFIX/etc.
set(_uvm_config_code [[
  if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(_uvm_etc "/etc/uvmd")
  else()
    set(_uvm_etc "${CMAKE_INSTALL_PREFIX}/etc/uvmd")
  endif()
  file(INSTALL DESTINATION "${_uvm_etc}" TYPE FILE FILES "@SOURCE@/dist/uvmd.toml")
]])
string(REPLACE "@SOURCE@" "${CMAKE_SOURCE_DIR}" _uvm_config_code "${_uvm_config_code}")
install(CODE "${_uvm_config_code}" COMPONENT service)
install(FILES dist/bash-completion/uvmctl dist/bash-completion/uvmd
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions COMPONENT service)

# Man pages from each binary's --help and --version (help2man), made at
# build time. uvmctl's page carries `uvmctl run --help` (every scenario op).
find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(UVM_MAN_PAGES)
  foreach(entry "uvmd:8:serve a utility-VM engine to remote clients"
               "uvmctl:1:drive utility VMs from the command line"
               "uvm-bench:1:load and benchmark harness of the utility-VM engine"
               "gcs:1:the guest compute service of utility VMs")
    string(REPLACE ":" ";" parts "${entry}")
    list(GET parts 0 tool)
    list(GET parts 1 section)
    list(GET parts 2 summary)
    set(page "${CMAKE_BINARY_DIR}/man/${tool}.${section}")
    set(out "${page}.gz")
    add_custom_command(OUTPUT "${out}"
                       COMMAND ${CMAKE_COMMAND} -E make_directory "${CMAKE_BINARY_DIR}/man"
                       COMMAND ${CMAKE_COMMAND} -DHELP2MAN=${HELP2MAN} -DTOOL=$<TARGET_FILE:${tool}>
                               -DSECTION=${section} -DSUMMARY=${summary} -DOUT=${page}
                               -P "${CMAKE_SOURCE_DIR}/cmake/man_page.cmake"
                       DEPENDS ${tool} "${CMAKE_SOURCE_DIR}/cmake/man_page.cmake"
                       COMMENT "man page ${tool}.${section}" VERBATIM)
    list(APPEND UVM_MAN_PAGES "${out}")
    install(FILES "${out}" DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section} COMPONENT service)
  endforeach()
  add_custom_target(man_pages ALL DEPENDS ${UVM_MAN_PAGES})
else()
  message(WARNING "help2man not found: no man pages (apt-get install help2man)")
endif()

# The .deb: everything above under /usr, the config in /etc (a conffile:
# dpkg keeps an operator's changes on upgrade).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME uvm-engine)
set(CPACK_PACKAGE_VENDOR "uvm-engine")
set(CPACK_PACKAGE_CONTACT "uvm-engine maintainers <uvm-engine@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "utility-VM engine (hcsshim's uvm as actors): uvmd, uvmctl, library")
set(CPACK_PACKAGE_DESCRIPTION
    "The utility-VM engine: uvmd (the engine served over mutual TLS, a systemd service), uvmctl, uvm-bench, the gcs guest agent, and the static libraries and headers to embed it (find_package(uvm_engine), pkg-config uvm_engine).")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: from the shared libraries the binaries link (dpkg-shlibdeps).
find_program(DPKG_SHLIBDEPS dpkg-shlibdeps)
if(DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  message(WARNING "dpkg-shlibdeps not found (dpkg-dev): the .deb's Depends list is written by hand")
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libc6, libstdc++6, libgcc-s1, libcaf-core0.17.6, libcaf-io0.17.6, libcaf-openssl0.17.6, libssl3, libspdlog1.10, libfmt9, libsystemd0, libacl1, libjemalloc2")
endif()
# Embedders need the headers of what the library's headers include.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libcaf-dev, nlohmann-json3-dev, libspdlog-dev, libboost-dev, libssl-dev, qemu-system-x86")
configure_file(dist/debian/conffiles "${CMAKE_BINARY_DIR}/debian/conffiles" COPYONLY)
foreach(script postinst prerm postrm)
  file(COPY dist/debian/${script} DESTINATION "${CMAKE_BINARY_DIR}/debian"
       FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ
                        WORLD_EXECUTE)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_BINARY_DIR}/debian/conffiles;${CMAKE_BINARY_DIR}/debian/postinst;${CMAKE_BINARY_DIR}/debian/prerm;${CMAKE_BINARY_DIR}/debian/postrm")
include(CPack)

# The .deb built, unpacked into a scratch root and run from there.
add_test(NAME packaging.deb COMMAND bash ${CMAKE_SOURCE_DIR}/tests/packaging/deb.sh ${CMAKE_BINARY_DIR})
set_tests_properties(packaging.deb PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77)

# systemd-analyze verify on the unit (skipped where it cannot run).
add_test(NAME packaging.systemd_unit
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/packaging/systemd_unit.sh ${CMAKE_SOURCE_DIR}
                 ${CMAKE_BINARY_DIR})
set_tests_properties(packaging.systemd_unit PROPERTIES TIMEOUT 60 SKIP_RETURN_CODE 77)

# The unit's mount hardening against the in-process guest's sandbox.
add_test(NAME packaging.unit_hardening
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/packaging/unit_hardening.sh ${CMAKE_SOURCE_DIR}
                 ${CMAKE_BINARY_DIR})
set_tests_properties(packaging.unit_hardening PROPERTIES TIMEOUT 60 SKIP_RETURN_CODE 77)
