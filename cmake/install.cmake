# What `cmake --install` puts under a prefix: the engine's static libraries
# as the exported package uvm_engine (find_package(uvm_engine) gives
# uvm::engine and the layers below it, each with its dependencies), the
# headers an embedder's includes reach, a pkg-config file, the binaries, and
# uvmd's service files (unit, default config, man pages, bash completion).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(UVM_INSTALL_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}/uvm_engine")
set(UVM_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/uvm_engine")

# The layers uvm_engine links, bottom up (the order a static link needs,
# reversed). Exported as uvm::<name without uvm_>.
set(UVM_LIBRARY_LAYERS uvm_messages uvm_metrics uvm_messages_caf uvm_gojson uvm_hcs uvm_hcs_qemu uvm_bridge
                       uvm_guest uvm_core uvm_actors uvm_engine)
foreach(layer ${UVM_LIBRARY_LAYERS})
  string(REGEX REPLACE "^uvm_" "" short ${layer})
  set_target_properties(${layer} PROPERTIES EXPORT_NAME ${short})
  target_include_directories(${layer} INTERFACE "$<INSTALL_INTERFACE:${UVM_INSTALL_INCLUDEDIR}>")
endforeach()
install(TARGETS ${UVM_LIBRARY_LAYERS} EXPORT uvm_engineTargets COMPONENT library
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})

# The public headers are engine/engine.hpp, engine/utility_vm.hpp (with
# the handles and the remote node of uvmd), actors/core/logging.hpp and
# messages/. engine.hpp includes internal headers too (the actors' internal
# calls, the bridge's I/O loop, the simulator and QEMU backends it holds):
# this is their include closure, as `g++ -MM` lists it, and nothing else.
# tests/packaging/install_prefix.sh compiles every public header against
# the installed tree, so a header missing here fails it.
set(UVM_PUBLIC_HEADERS
    actors/core/deadline_table.hpp actors/core/guest_backend.hpp actors/core/log_rate_limit.hpp
    actors/core/logging.hpp actors/internal_calls.hpp
    bridge/frame_log.hpp bridge/io_loop.hpp bridge/stdio_relay.hpp
    engine/blocking_call.hpp engine/call.hpp engine/calls.hpp engine/descriptor_limit.hpp
    engine/dispatcher.hpp engine/engine.hpp engine/guest_handles.hpp engine/host_network.hpp
    engine/remote_node.hpp engine/resources.hpp engine/tls_guard.hpp engine/utility_vm.hpp
    hcs/backend.hpp hcs/executor.hpp hcs/qemu/qemu_backend.hpp hcs/qemu/qemu_machine.hpp
    hcs/sim/sim_backend.hpp hcs/sim/sim_model.hpp hcs/sim/sim_system.hpp hcs/vm_access.hpp
    messages/caf/calls.hpp messages/caf/interfaces.hpp messages/caf/registration.hpp
    messages/caf/remote_calls.hpp messages/device_types.hpp messages/errors.hpp
    messages/events.hpp messages/guest_types.hpp messages/hcs_settings.hpp
    messages/hcs_types.hpp messages/options.hpp messages/qemu_pci_layout.hpp
    messages/vm_types.hpp metrics/engine_metrics.hpp)
foreach(header ${UVM_PUBLIC_HEADERS})
  get_filename_component(dir ${header} DIRECTORY)
  install(FILES ${header} DESTINATION ${UVM_INSTALL_INCLUDEDIR}/${dir} COMPONENT library)
endforeach()

install(EXPORT uvm_engineTargets NAMESPACE uvm:: DESTINATION ${UVM_INSTALL_CMAKEDIR}
        COMPONENT library)
export(EXPORT uvm_engineTargets NAMESPACE uvm::
       FILE "${CMAKE_BINARY_DIR}/uvm_engineTargets.cmake")
configure_package_config_file(cmake/templates/uvm_engineConfig.cmake.in
                              "${CMAKE_BINARY_DIR}/uvm_engineConfig.cmake"
                              INSTALL_DESTINATION ${UVM_INSTALL_CMAKEDIR})
write_basic_package_version_file("${CMAKE_BINARY_DIR}/uvm_engineConfigVersion.cmake"
                                 COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_BINARY_DIR}/uvm_engineConfig.cmake"
              "${CMAKE_BINARY_DIR}/uvm_engineConfigVersion.cmake" cmake/FindCAF.cmake
        DESTINATION ${UVM_INSTALL_CMAKEDIR} COMPONENT library)

# pkg-config: static archives, so every library they need is in Libs.
set(UVM_PC_LIBS "")
list(REVERSE UVM_LIBRARY_LAYERS)
foreach(layer ${UVM_LIBRARY_LAYERS})
  string(APPEND UVM_PC_LIBS " -l${layer}")
endforeach()
list(REVERSE UVM_LIBRARY_LAYERS)
configure_file(cmake/templates/uvm_engine.pc.in "${CMAKE_BINARY_DIR}/uvm_engine.pc" @ONLY)
install(FILES "${CMAKE_BINARY_DIR}/uvm_engine.pc" DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT library)

install(TARGETS uvmd uvmctl uvm-bench gcs COMPONENT runtime
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
file(GLOB UVM_BENCH_PROFILES CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/bench/profiles/*.json")
install(FILES ${UVM_BENCH_PROFILES} DESTINATION ${CMAKE_INSTALL_DATADIR}/uvm-bench/profiles
        COMPONENT runtime)

# The installed package in use (tests/packaging/install_prefix.sh).
add_test(NAME packaging.install_prefix
         COMMAND bash ${CMAKE_SOURCE_DIR}/tests/packaging/install_prefix.sh ${CMAKE_SOURCE_DIR}
                 ${CMAKE_BINARY_DIR})
set_tests_properties(packaging.install_prefix PROPERTIES TIMEOUT 300)
