target_link_libraries(${target} PRIVATE p2c2r_runtime p2c2r_kernels p2c2r_common nlohmann_json::nlohmann_json)
# Test-only shaders (texel buffer bindings).
p2c2r_embed_shaders(${target} ${dir}/texel_fill.comp ${dir}/texel_gather.comp
                    ${dir}/texel_signed.comp)
