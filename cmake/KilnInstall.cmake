# `cmake --install build --prefix P` (or `make install PREFIX=P`): the tools
# in P/bin, the runtime archives beside them in P/lib (kilnc links trainers
# and inference libraries against ../lib), the runtime's ABI header and the
# dialect's headers (for passes of one's own) in P/include, and
# find_package(Kiln) in P/lib/cmake/Kiln.
include(CMakePackageConfigHelpers)

# The tools load libMLIR from the LLVM installation they were built with.
set_target_properties(kilnc kiln-opt kiln-run PROPERTIES
  INSTALL_RPATH "\$ORIGIN/../lib;${LLVM_LIBRARY_DIR}")
install(TARGETS kilnc kiln-opt kiln-run RUNTIME DESTINATION bin)
install(TARGETS kiln_runtime kiln_infer ARCHIVE DESTINATION lib)
install(FILES runtime/include/kiln/kiln_runtime.h DESTINATION include/kiln)
install(DIRECTORY dialects/Kiln DESTINATION include
        FILES_MATCHING PATTERN "*.h")
install(DIRECTORY ${PROJECT_BINARY_DIR}/dialects/Kiln DESTINATION include
        FILES_MATCHING PATTERN "*.h.inc" PATTERN CMakeFiles EXCLUDE)

set(KILN_CMAKE_DIR lib/cmake/Kiln)
configure_package_config_file(cmake/KilnConfig.cmake.in
  ${PROJECT_BINARY_DIR}/KilnConfig.cmake INSTALL_DESTINATION ${KILN_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/KilnConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/KilnConfig.cmake
              ${PROJECT_BINARY_DIR}/KilnConfigVersion.cmake
        DESTINATION ${KILN_CMAKE_DIR})
