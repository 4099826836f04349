find_package(SQLite3 REQUIRED)
target_link_libraries(${target} PRIVATE p2c2r_server p2c2r_kernels p2c2r_common SQLite::SQLite3)
target_link_libraries(${target} PRIVATE p2c2r_runtime)
