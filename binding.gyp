# node-gyp fallback build of the `causeway` addon: the same sources as
# CMakeLists.txt (the primary build, via cmake-js), output at
# build/Release/causeway.node.
{
  'variables': {
    # The official BLAKE3 C sources, from the npm package (never copied here).
    # Made relative to this directory: gyp's make generator mangles absolute
    # source paths into object paths ("obj.target/causeway//abs/...o").
    'blake3_dir': '<!(node -p "const p = require(\'path\'); p.relative(process.cwd(), p.join(p.dirname(require.resolve(\'@c4312/blake3-native/package.json\')), \'c\')).split(p.sep).join(\'/\')")',
    'napi_include_dir': '<!(node -p "require(\'node-addon-api\').include_dir")',
  },
  'targets': [
    {
      'target_name': 'causeway',
      'sources': [
        # The core (CORE_SOURCES in CMakeLists.txt).
        'native/status.cc',
        'native/crc32c.cc',
        'native/hash.cc',
        'native/fsutil.cc',
        'native/frame.cc',
        'native/segment.cc',
        'native/dir_lock.cc',
        'native/index.cc',
        'native/index_query.cc',
        'native/index_io.cc',
        'native/index_load.cc',
        'native/index_attach.cc',
        'native/index_walk.cc',
        'native/aggregate.cc',
        'native/aggregate_store.cc',
        'native/msgpack_field.cc',
        'native/recovery.cc',
        'native/checkpoint_load.cc',
        'native/store.cc',
        'native/append.cc',
        'native/append_frames.cc',
        'native/replica_append.cc',
        'native/durability.cc',
        'native/read.cc',
        'native/store_registry.cc',
        'native/checkpoint.cc',
        'native/compaction.cc',
        'native/retired.cc',
        'native/snapshot.cc',
        'native/refresh.cc',
        'native/footer.cc',
        'native/index_part.cc',
        'native/index_part_build.cc',
        'native/id_directory.cc',
        'native/id_directory_io.cc',
        'native/part_builder.cc',
        'native/index_files.cc',
        'native/cond_var.cc',
        'native/glibc_floor.cc',
        'native/link_channel.cc',
        'native/link_wire.cc',
        'native/writer_server.cc',
        'native/writer_link.cc',
        'native/store_link.cc',
        # The Node-API layer.
        'native/js_addon.cc',
        'native/js_store.cc',
        'native/js_store_read.cc',
        'native/js_aggregate.cc',
        'native/js_async.cc',
        'native/js_convert.cc',
        'native/js_index_part.cc',
        'native/js_errors.cc',
        # BLAKE3 (its dispatcher picks SSE2/SSE4.1/AVX2/AVX-512 at run time).
        '<(blake3_dir)/blake3.c',
        '<(blake3_dir)/blake3_dispatch.c',
        '<(blake3_dir)/blake3_portable.c',
      ],
      'include_dirs': [
        '<(napi_include_dir)',
        '<(blake3_dir)',
      ],
      'defines': [
        'NAPI_VERSION=8',
        'NAPI_DISABLE_CPP_EXCEPTIONS',
        'NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS',
      ],
      # node's common.gypi sets -O3, gnu++17, -fno-exceptions and -fno-rtti;
      # match the CMake build instead (C++20, -O2, default exceptions/RTTI).
      'cflags!': [ '-O3', '-fno-exceptions', '-fno-rtti' ],
      'cflags_cc!': [ '-std=gnu++17', '-fno-exceptions', '-fno-rtti' ],
      'cflags': [ '-O2', '-fvisibility=hidden', '-Wall' ],
      'cflags_cc': [ '-std=c++20', '-fvisibility-inlines-hidden', '-Wextra', '-Wno-unused-parameter' ],
      # BLAKE3's C sources get -O3, as CMakeLists.txt gives its blake3 library.
      'cflags_c': [ '-O3' ],
      'configurations': {
        'Release': {
          'cflags!': [ '-O3' ],
          'defines': [ 'NDEBUG' ],
        },
      },
      'xcode_settings': {
        'CLANG_CXX_LANGUAGE_STANDARD': 'c++20',
        'OTHER_CPLUSPLUSFLAGS': [ '-std=c++20' ],
        'GCC_ENABLE_CPP_EXCEPTIONS': 'YES',
        'GCC_ENABLE_CPP_RTTI': 'YES',
        'GCC_OPTIMIZATION_LEVEL': '2',
        'GCC_SYMBOLS_PRIVATE_EXTERN': 'YES',      # -fvisibility=hidden
        'GCC_INLINES_ARE_PRIVATE_EXTERN': 'YES',  # -fvisibility-inlines-hidden
        'MACOSX_DEPLOYMENT_TARGET': '11.0',
      },
      'msvs_settings': {
        'VCCLCompilerTool': {
          'AdditionalOptions': [ '/std:c++20' ],
          'ExceptionHandling': 1,
        },
      },
      'conditions': [
        # The operating system's calls, behind native/platform.h, and the
        # writer link's transport, behind native/local_socket.h.
        [ 'OS=="win"', {
          'sources': [ 'native/platform_win32.cc', 'native/local_socket_win32.cc', 'native/pipe_io_win32.cc',
                       'native/pipe_security_win32.cc' ],
          'defines': [ '_WIN32_WINNT=0x0A00', 'WINVER=0x0A00' ],
          'libraries': [ '-lbcrypt', '-ladvapi32' ],
        }, {
          'sources': [ 'native/platform_posix.cc', 'native/local_socket.cc' ],
        }],
        [ 'target_arch=="x64" and OS!="win"', {
          'sources': [
            '<(blake3_dir)/blake3_sse2_x86-64_unix.S',
            '<(blake3_dir)/blake3_sse41_x86-64_unix.S',
            '<(blake3_dir)/blake3_avx2_x86-64_unix.S',
            '<(blake3_dir)/blake3_avx512_x86-64_unix.S',
          ],
        }],
        [ 'target_arch=="arm64"', {
          'sources': [ '<(blake3_dir)/blake3_neon.c' ],
          'defines': [ 'BLAKE3_USE_NEON=1' ],
        }],
        [ 'target_arch!="arm64" and (target_arch!="x64" or OS=="win")', {
          'defines': [
            'BLAKE3_NO_SSE2',
            'BLAKE3_NO_SSE41',
            'BLAKE3_NO_AVX2',
            'BLAKE3_NO_AVX512',
          ],
        }],
      ],
    },
  ],
}
