# The layers of the engine (docs/ARCHITECTURE.md). A layer's headers are
# reachable only by the targets that link it: each layer gets an include
# root of its own under the build tree, holding links to its headers and
# nothing else, and no target sees the source tree itself. A file that
# includes a header of a layer its target does not link fails to compile
# ("No such file or directory").
#
# uvm_layer(TARGET DIR [DIR...]): TARGET's headers are DIR/*.hpp.
function(uvm_layer target)
  set(root "${CMAKE_BINARY_DIR}/layers/${target}")
  file(REMOVE_RECURSE "${root}")
  foreach(dir ${ARGN})
    file(GLOB headers CONFIGURE_DEPENDS "${CMAKE_SOURCE_DIR}/${dir}/*.hpp")
    file(MAKE_DIRECTORY "${root}/${dir}")
    foreach(header ${headers})
      get_filename_component(name "${header}" NAME)
      file(CREATE_LINK "${header}" "${root}/${dir}/${name}" SYMBOLIC)
    endforeach()
  endforeach()
  target_include_directories(${target} PUBLIC "$<BUILD_INTERFACE:${root}>")
endfunction()
