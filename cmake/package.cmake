# The shared library next to the static one, and everything `cmake --install` puts in place: headers,
# both libraries, the mfgrad tool, the CMake package (mfgradConfig.cmake, target mfgrad::mfgrad) and
# mfgrad.pc for pkg-config. Included at the end of the top-level CMakeLists.txt.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Until 1.0 a minor version may change the ABI, so the SONAME and the package's compatibility both
# carry major.minor: libmfgrad.so.0.1 and find_package(mfgrad 0.1).
set(MFGRAD_SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})

# The shared library is linked from the static library's own object files (compiled position
# independent), so whatever sources `mfgrad` has — every kernel and ISA file — both libraries have.
add_library(mfgrad_shared SHARED $<TARGET_OBJECTS:mfgrad>)
add_library(mfgrad::mfgrad ALIAS mfgrad_shared)
add_library(mfgrad::mfgrad_static ALIAS mfgrad)
target_include_directories(mfgrad_shared PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                                 $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>)
# The same libraries the static one links (OpenMP, oneTBB), private here: they are loaded through the
# shared library's own dependencies and users compile without them.
target_link_libraries(mfgrad_shared PRIVATE $<TARGET_PROPERTY:mfgrad,LINK_LIBRARIES>)
# Only mfgrad's own symbols leave the library (the C functions and namespace mfgrad): the xsimd, oneTBB
# and standard-library code compiled into it stays inside, so it cannot clash with the user's copies.
# --no-undefined turns a forgotten dependency into a link error here rather than in the user's build;
# not under a sanitizer, whose runtime only the executable links (the sanitizer CI stages).
target_link_options(mfgrad_shared PRIVATE LINKER:--version-script=${CMAKE_CURRENT_LIST_DIR}/mfgrad.map)
if(NOT CMAKE_CXX_FLAGS MATCHES "-fsanitize=")
  target_link_options(mfgrad_shared PRIVATE LINKER:--no-undefined)
endif()
set_target_properties(mfgrad_shared PROPERTIES
  OUTPUT_NAME mfgrad
  EXPORT_NAME mfgrad
  VERSION ${PROJECT_VERSION}
  SOVERSION ${MFGRAD_SOVERSION}
  LINK_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/mfgrad.map)
set_target_properties(mfgrad PROPERTIES EXPORT_NAME mfgrad_static)
# The C++ headers use C++20 (std::span): code that includes them is compiled as C++20 at least.
target_compile_features(mfgrad PUBLIC cxx_std_20)
target_compile_features(mfgrad_shared PUBLIC cxx_std_20)

# A project that adds mfgrad as a subdirectory installs none of it unless it asks (MFGRAD_INSTALL=ON).
if(NOT MFGRAD_INSTALL)
  return()
endif()

install(DIRECTORY include/mfgrad TYPE INCLUDE)
install(FILES ${PROJECT_BINARY_DIR}/include/mfgrad/version.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mfgrad)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})  # Apache-2.0
install(TARGETS mfgrad_shared mfgrad EXPORT mfgradTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(TARGET mfgrad_cli)
  install(TARGETS mfgrad_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(TARGETS mfgrad_count RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/mfgrad)  # bench's callgrind child
endif()

set(MFGRAD_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/mfgrad)
install(EXPORT mfgradTargets NAMESPACE mfgrad:: DESTINATION ${MFGRAD_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/mfgradConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/mfgradConfig.cmake INSTALL_DESTINATION ${MFGRAD_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/mfgradConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/mfgradConfig.cmake ${PROJECT_BINARY_DIR}/mfgradConfigVersion.cmake
        DESTINATION ${MFGRAD_CMAKE_DIR})

# pkg-config: `--libs` gives the shared library, which brings its own dependencies; `--static --libs`
# adds what the static archive needs from the C++ runtime, OpenMP and oneTBB. oneTBB is named as a
# library here, not as a required package: pkgconf resolves Requires.private even for a shared link,
# which then failed for a C user without libtbb-dev.
set(MFGRAD_PC_LIBS_PRIVATE "-ltbb")
foreach(flag IN LISTS OpenMP_CXX_FLAGS)
  string(APPEND MFGRAD_PC_LIBS_PRIVATE " ${flag}")
endforeach()
foreach(lib IN LISTS CMAKE_CXX_IMPLICIT_LINK_LIBRARIES)
  if(lib MATCHES "^(stdc\\+\\+|c\\+\\+|m)$")
    string(APPEND MFGRAD_PC_LIBS_PRIVATE " -l${lib}")
  endif()
endforeach()
string(STRIP "${MFGRAD_PC_LIBS_PRIVATE}" MFGRAD_PC_LIBS_PRIVATE)
# The prefix is found from the .pc file's own place, so `cmake --install --prefix` anywhere (and moving
# the installed tree afterwards) keeps it right; absolute install dirs can only be taken as configured.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(MFGRAD_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH up "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
  string(REGEX REPLACE "/$" "" up "${up}")
  set(MFGRAD_PC_PREFIX "\${pcfiledir}/${up}")
endif()
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(MFGRAD_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(MFGRAD_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
configure_file(${CMAKE_CURRENT_LIST_DIR}/mfgrad.pc.in ${PROJECT_BINARY_DIR}/mfgrad.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/mfgrad.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
