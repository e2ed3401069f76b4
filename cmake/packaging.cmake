# packaging.cmake -- Debian packages with CPack (DEB generator), one per
# install component:
#   libvmmalloc1        runtime  lib/<multiarch>/libvmmalloc.so.1
#   libvmmalloc-dev     dev      header, libvmmalloc.so link, pkg-config, man page
#   libvmmalloc1-debug  debug    lib/<multiarch>/vmem_debug/libvmmalloc.so.1
#   vmmalloc-tools      tools + Unspecified: vmmalloc-run, vmmalloc-daxprobe,
#                       the pmem provisioning script
# Build them from a tree configured with -DCMAKE_INSTALL_PREFIX=/usr:
#   cmake -S . -B build-deb -DCMAKE_INSTALL_PREFIX=/usr -DVMM_BUILD_TESTS=OFF \
#     -DVMM_BUILD_BENCH=OFF && cmake --build build-deb -j2 &&
#   (cd build-deb && cpack -G DEB)
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "packaging: CMAKE_INSTALL_PREFIX is ${CMAKE_INSTALL_PREFIX}; "
    "Debian packages want -DCMAKE_INSTALL_PREFIX=/usr")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vmmalloc)
set(CPACK_PACKAGE_VENDOR "vmmalloc developers")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "vmmalloc developers <vmmalloc@example.org>")
# CPackDeb prepends any non-default summary to every component's description,
# which already starts with its own synopsis: keep CPack's default summary
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CMAKE_PROJECT_NAME} built using CMake")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/pmem/vmem")
set(CPACK_STRIP_FILES ON)

set(CPACK_COMPONENTS_ALL runtime dev debug tools Unspecified)
set(CPACK_COMPONENTS_GROUPING ONE_PER_GROUP)

include(CPackComponent)
cpack_add_component_group(toolset)
cpack_add_component(runtime DISPLAY_NAME "libvmmalloc1")
cpack_add_component(dev DEPENDS runtime)
cpack_add_component(debug)
cpack_add_component(tools GROUP toolset DEPENDS runtime)
cpack_add_component(Unspecified GROUP toolset)

set(_desc_tail
  "\nEvery dynamic allocation of a program that loads libvmmalloc (LD_PRELOAD\nor -lvmmalloc) is served from a pool on a memory-mapped, unlinked file in\n$VMMALLOC_POOL_DIR of $VMMALLOC_POOL_SIZE bytes -- on a DAX filesystem\nthat moves the heap from DRAM to persistent memory used as volatile\ncapacity.")

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libvmmalloc1)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
# dpkg's ldconfig trigger (lintian: lacks-ldconfig-trigger)
file(WRITE "${CMAKE_BINARY_DIR}/debian-docs/triggers" "activate-noawait ldconfig\n")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA "${CMAKE_BINARY_DIR}/debian-docs/triggers")
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION
  "general purpose volatile memory allocation library${_desc_tail}")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libvmmalloc-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_DESCRIPTION
  "general purpose volatile memory allocation library - development files${_desc_tail}\n\nThis package has the header, the link for -lvmmalloc, the pkg-config\nfile and the libvmmalloc(7) manual page.")

set(CPACK_DEBIAN_DEBUG_PACKAGE_NAME libvmmalloc1-debug)
set(CPACK_DEBIAN_DEBUG_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_DEBUG_DESCRIPTION
  "general purpose volatile memory allocation library - debug variant${_desc_tail}\n\nThis package has the vmem_debug build of the library: extra checks,\nVMMALLOC_LOG_LEVEL, VMMALLOC_LOG_FILE and VMMALLOC_LOG_STATS.  Load it\nwith LD_PRELOAD=<libdir>/vmem_debug/libvmmalloc.so.1 or vmmalloc-run\n--debug.")

set(CPACK_DEBIAN_TOOLSET_PACKAGE_NAME vmmalloc-tools)
set(CPACK_DEBIAN_TOOLSET_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_TOOLSET_PACKAGE_DEPENDS "libvmmalloc1 (= ${PROJECT_VERSION}-1)")
set(CPACK_DEBIAN_TOOLSET_PACKAGE_SUGGESTS "libvmmalloc1-debug, ndctl")
set(CPACK_DEBIAN_TOOLSET_DESCRIPTION
  "general purpose volatile memory allocation library - tools${_desc_tail}\n\nThis package has vmmalloc-run, which runs a command with its heap in a\npool it sizes and places itself (preferring a DAX filesystem),\nvmmalloc-daxprobe, which tells whether a directory is on DAX and reports\ndevice DAX and memory-only NUMA nodes, and the\nscript that provisions emulated persistent memory for tests.")

# the pmem provisioning script (root's tool: sbin), when no one else installs it
set(_prov "${CMAKE_CURRENT_SOURCE_DIR}/tests/pmem-emulation/provision")
if(EXISTS "${_prov}")
  install(PROGRAMS "${_prov}" DESTINATION ${CMAKE_INSTALL_SBINDIR}
    RENAME vmmalloc-provision COMPONENT tools)
endif()

# /usr/share/doc/<package>/{copyright,changelog.Debian.gz} in each package
set(_docs "${CMAKE_BINARY_DIR}/debian-docs")
file(MAKE_DIRECTORY "${_docs}")
set(_copyright "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: vmmalloc

Files: *
Copyright: the vmmalloc developers
License: see the project repository

Files: jemalloc (linked statically into libvmmalloc.so.1)
Copyright: 2002-present Jason Evans, 2007-2012 Mozilla Foundation,
 2009-present Facebook, Inc.
License: BSD-2-Clause
")
if(EXISTS /usr/share/doc/libjemalloc-dev/copyright)
  file(READ /usr/share/doc/libjemalloc-dev/copyright _je_copyright)
  string(APPEND _copyright "\nThe jemalloc notice as Debian ships it:\n\n${_je_copyright}")
endif()
file(WRITE "${_docs}/copyright" "${_copyright}")
string(TIMESTAMP _date "%a, %d %b %Y %H:%M:%S +0000" UTC)
foreach(pkg libvmmalloc1 libvmmalloc-dev libvmmalloc1-debug vmmalloc-tools)
  file(WRITE "${_docs}/${pkg}.changelog"
    "${pkg} (${PROJECT_VERSION}-1) unstable; urgency=medium\n\n"
    "  * Built with CPack from the vmmalloc sources.\n\n"
    " -- ${CPACK_PACKAGE_CONTACT}  ${_date}\n")
endforeach()
find_program(VMM_GZIP gzip)
foreach(pair "runtime libvmmalloc1" "dev libvmmalloc-dev"
    "debug libvmmalloc1-debug" "tools vmmalloc-tools")
  separate_arguments(pair)
  list(GET pair 0 comp)
  list(GET pair 1 pkg)
  install(FILES "${_docs}/copyright"
    DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${pkg} COMPONENT ${comp})
  if(VMM_GZIP)
    add_custom_command(OUTPUT "${_docs}/${pkg}/changelog.Debian.gz"
      COMMAND ${CMAKE_COMMAND} -E make_directory "${_docs}/${pkg}"
      COMMAND ${CMAKE_COMMAND} -E copy "${_docs}/${pkg}.changelog"
        "${_docs}/${pkg}/changelog.Debian"
      COMMAND ${VMM_GZIP} -9nf "${_docs}/${pkg}/changelog.Debian"
      DEPENDS "${_docs}/${pkg}.changelog" VERBATIM)
    list(APPEND _changelogs "${_docs}/${pkg}/changelog.Debian.gz")
    install(FILES "${_docs}/${pkg}/changelog.Debian.gz"
      DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${pkg} COMPONENT ${comp})
  endif()
endforeach()
if(_changelogs)
  add_custom_target(debian-changelogs ALL DEPENDS ${_changelogs})
endif()

include(CPack)
