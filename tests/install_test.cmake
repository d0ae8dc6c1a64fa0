# `cmake --install` puts a working strata on the prefix's bin and the example where the installed
# demo says it is. Run by CTest: cmake -DBUILD_DIR=... -DWORK_DIR=... -DVERSION=... -P install_test.cmake
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/empty)
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc})")
endif()
foreach(file bin/strata share/strata/examples/admin-reports/strata.toml share/doc/strata/guide.md)
  if(NOT EXISTS ${WORK_DIR}/prefix/${file})
    message(FATAL_ERROR "not installed: ${file}")
  endif()
endforeach()
execute_process(COMMAND ${WORK_DIR}/prefix/bin/strata --version OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "strata ${VERSION}")
  message(FATAL_ERROR "the installed strata --version said '${out}' (${rc})")
endif()
execute_process(COMMAND ${WORK_DIR}/prefix/bin/strata demo WORKING_DIRECTORY ${WORK_DIR}/empty
                ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 2 OR NOT err MATCHES "${WORK_DIR}/prefix/share/strata/examples/admin-reports")
  message(FATAL_ERROR "the installed demo outside a project said '${err}' (${rc})")
endif()
file(REMOVE_RECURSE ${WORK_DIR})
