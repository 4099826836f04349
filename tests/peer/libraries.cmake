target_link_libraries(${target} PRIVATE p2c2r_peer p2c2r_sandbox p2c2r_kernels p2c2r_common)
