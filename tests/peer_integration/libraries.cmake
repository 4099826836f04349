target_link_libraries(${target} PRIVATE p2c2r_kernels p2c2r_common nlohmann_json::nlohmann_json)
