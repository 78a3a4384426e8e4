# Keeps upstream test libraries out of the global MLIR library lists, so that a
# tool never mixes static MLIR archives with libMLIR.so (two copies of MLIR in
# one process), and offers kiln_link_mlir() for Kiln's own targets.
foreach(prop MLIR_DIALECT_LIBS MLIR_CONVERSION_LIBS MLIR_TRANSLATION_LIBS
             MLIR_EXTENSION_LIBS)
  get_property(libs GLOBAL PROPERTY ${prop})
  list(FILTER libs EXCLUDE REGEX "Test")
  set_property(GLOBAL PROPERTY ${prop} "${libs}")
endforeach()

# Links `target` against MLIR libraries: libMLIR.so when MLIR_LINK_MLIR_DYLIB
# is on, the named static libraries otherwise.
function(kiln_link_mlir target type)
  mlir_target_link_libraries(${target} ${type} ${ARGN})
  target_link_libraries(${target} ${type} LLVM)
endfunction()
