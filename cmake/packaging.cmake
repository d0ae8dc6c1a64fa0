# Installing and packaging. `cmake --install build` puts strata in <prefix>/bin and the example
# project in <prefix>/share/strata/examples; `cpack --config build/CPackConfig.cmake` (or
# scripts/package.sh) makes a Debian package whose dependencies dpkg-shlibdeps reads from the binary.
include(GNUInstallDirs)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/admin-reports
        DESTINATION ${CMAKE_INSTALL_DATADIR}/strata/examples  # the demo looks here (demo_command.cc)
        PATTERN "demo.db*" EXCLUDE
        PATTERN "strata-jobs.db*" EXCLUDE
        PATTERN "exports" EXCLUDE)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${CMAKE_CURRENT_LIST_DIR}/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME strata)
set(CPACK_PACKAGE_VENDOR "The Strata developers")
set(CPACK_PACKAGE_CONTACT "The Strata developers <strata@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Fast report exports to .xlsx/.csv and a regression gate for report SQL")
set(CPACK_PACKAGE_DESCRIPTION
    "Strata exports report queries from SQLite or PostgreSQL to .xlsx and .csv in constant memory, \
serves them as background jobs behind an HTTP API and a web page, and checks a changed report on the \
tenants that matter before it ships (strata check).")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS git)  # strata check --base REF reads the base with git archive
set(CPACK_STRIP_FILES ON)
include(CPack)
