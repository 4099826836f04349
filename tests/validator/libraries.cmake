target_link_libraries(${target} PRIVATE p2c2r_validator p2c2r_validator_sim p2c2r_common nlohmann_json::nlohmann_json)
