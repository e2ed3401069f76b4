# manpage.cmake -- libvmmalloc.7 from docs/libvmmalloc.7.md with pandoc,
# installed gzipped (Debian policy); without pandoc it is not built.
set(_md "${CMAKE_CURRENT_SOURCE_DIR}/docs/libvmmalloc.7.md")
set(_roff "${CMAKE_BINARY_DIR}/libvmmalloc.7")
find_program(VMM_PANDOC pandoc)
if(EXISTS "${_md}" AND VMM_PANDOC)
  find_program(VMM_GZIP gzip REQUIRED)
  add_custom_command(OUTPUT "${_roff}" "${_roff}.gz"
    COMMAND ${VMM_PANDOC} -s -t man "${_md}" -o "${_roff}"
    COMMAND ${VMM_GZIP} -9nkf "${_roff}"
    DEPENDS "${_md}" COMMENT "Writing libvmmalloc.7" VERBATIM)
  add_custom_target(manpage ALL DEPENDS "${_roff}" "${_roff}.gz")
  install(FILES "${_roff}.gz" DESTINATION ${CMAKE_INSTALL_MANDIR}/man7
    COMPONENT dev)
elseif(EXISTS "${_md}")
  message(STATUS "pandoc not found: libvmmalloc.7 is not built "
    "(apt-get install pandoc)")
endif()
