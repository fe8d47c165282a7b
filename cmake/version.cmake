# The version every binary prints with --version: the project's version,
# and `git describe --always --dirty` of the source tree when it is a git
# checkout (read at configure time; a tarball build prints the version
# alone). tools/ include "uvm_version.hpp" by linking uvm_version.
find_package(Git QUIET)
set(UVM_GIT_DESCRIBE "")
if(GIT_FOUND AND EXISTS "${CMAKE_SOURCE_DIR}/.git")
  execute_process(COMMAND "${GIT_EXECUTABLE}" describe --always --dirty
                  WORKING_DIRECTORY "${CMAKE_SOURCE_DIR}"
                  OUTPUT_VARIABLE UVM_GIT_DESCRIBE OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE _uvm_git_rc ERROR_QUIET)
  if(NOT _uvm_git_rc EQUAL 0)
    set(UVM_GIT_DESCRIBE "")
  endif()
endif()
if(UVM_GIT_DESCRIBE STREQUAL "")
  set(UVM_VERSION_STRING "${PROJECT_VERSION}")
else()
  set(UVM_VERSION_STRING "${PROJECT_VERSION} (git ${UVM_GIT_DESCRIBE})")
endif()
configure_file("${CMAKE_SOURCE_DIR}/cmake/templates/uvm_version.hpp.in"
               "${CMAKE_BINARY_DIR}/generated/uvm_version.hpp" @ONLY)
add_library(uvm_version INTERFACE)
target_include_directories(uvm_version INTERFACE "$<BUILD_INTERFACE:${CMAKE_BINARY_DIR}/generated>")
