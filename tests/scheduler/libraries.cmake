target_link_libraries(${target} PRIVATE p2c2r_scheduler)
