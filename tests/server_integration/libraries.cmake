target_link_libraries(${target} PRIVATE p2c2r_common p2c2r_kernels nlohmann_json::nlohmann_json)
