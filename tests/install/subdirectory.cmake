# heed under add_subdirectory() in a parent project (a learner who copies heed
# into their own): the parent gets the target heed::heed and nothing else, no
# tests, benches or lessons, and none of heed's flags (-O3, -march=native,
# warnings) on its own targets. Configure only: building would compile heed again.
#   cmake -DHEED_SOURCE=<repo> -DSCRATCH=<dir> -DCXX=<compiler> -DCTEST=<ctest> -P subdirectory.cmake
cmake_minimum_required(VERSION 3.20)

file(REMOVE_RECURSE ${SCRATCH})
file(MAKE_DIRECTORY ${SCRATCH}/src)
file(WRITE ${SCRATCH}/src/main.cpp "#include \"nn/nn.h\"\nint main() { return heed::Tensor{1}.numel() == 1 ? 0 : 1; }\n")
file(WRITE ${SCRATCH}/src/CMakeLists.txt [=[
cmake_minimum_required(VERSION 3.20)
project(parent LANGUAGES CXX)
enable_testing()  # so any test heed added would show
add_subdirectory(${HEED_SOURCE} heed)
add_executable(app main.cpp)
target_link_libraries(app PRIVATE heed::heed)
foreach(target test_tensor test_autograd test_nn test_lessons heed_bench heed_course heed-train lesson_01)
  if(TARGET ${target})
    message(FATAL_ERROR "add_subdirectory(heed) added heed's own target ${target} to the parent")
  endif()
endforeach()
get_target_property(options heed INTERFACE_COMPILE_OPTIONS)
if(options MATCHES "-march|-O[0-9]|-W")
  message(FATAL_ERROR "heed passes its own flags to the parent's targets: ${options}")
endif()
]=])

execute_process(COMMAND ${CMAKE_COMMAND} -S ${SCRATCH}/src -B ${SCRATCH}/build -DCMAKE_CXX_COMPILER=${CXX}
                        -DHEED_SOURCE=${HEED_SOURCE}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "subdirectory: configuring the parent failed:\n${out}")
endif()
execute_process(COMMAND ${CTEST} -N WORKING_DIRECTORY ${SCRATCH}/build OUTPUT_VARIABLE tests)
if(NOT tests MATCHES "Total Tests: 0")
  message(FATAL_ERROR "subdirectory: heed added tests to the parent project:\n${tests}")
endif()
