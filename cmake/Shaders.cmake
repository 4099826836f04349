# p2c2r_embed_shaders(TARGET SOURCES...)
# Compiles each GLSL compute shader to SPIR-V with glslangValidator at build
# time and emits it as a C header (`<name>.spv.h`, array `<name>_spv`) under
# the target's binary dir, which is added to the target's include path.
function(p2c2r_embed_shaders target)
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/spirv)
  file(MAKE_DIRECTORY ${out_dir})
  set(headers)
  foreach(src ${ARGN})
    get_filename_component(name ${src} NAME_WE)
    get_filename_component(abs ${src} ABSOLUTE)
    get_filename_component(dir ${abs} DIRECTORY)
    set(header ${out_dir}/${name}.spv.h)
    file(GLOB includes ${dir}/*.glsl ${CMAKE_SOURCE_DIR}/kernels/common/*.glsl)
    add_custom_command(
      OUTPUT ${header}
      COMMAND ${GLSLANG_VALIDATOR} --quiet -V --target-env vulkan1.1 -I${dir}
              -I${CMAKE_SOURCE_DIR}/kernels/common --vn ${name}_spv -o ${header} ${abs}
      DEPENDS ${abs} ${includes}
      COMMENT "glslang ${name}.comp -> SPIR-V"
      VERBATIM)
    list(APPEND headers ${header})
  endforeach()
  add_custom_target(${target}_spirv DEPENDS ${headers})
  add_dependencies(${target} ${target}_spirv)
  target_include_directories(${target} PRIVATE ${out_dir})
endfunction()
