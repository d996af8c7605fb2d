{
  "variables": {
    # 1: deflate through the libdeflate vendored in native/libdeflate (scripts/build-native.mjs sets it
    # unless DRIVESNAP_LIBDEFLATE=0).
    "libdeflate%": 0
  },
  "targets": [
    {
      "target_name": "drivesnap_isal",
      "sources": ["src/isal_gzip.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "libraries": ["-lisal"],
      "conditions": [
        # Only the Node-API entry points are exported: libdeflate's own symbols (default visibility in its
        # sources) stay private, so neither a libdeflate another library brought in nor ours can stand in
        # for the other.
        ["OS=='linux'", { "ldflags": ["-Wl,--version-script=<(module_root_dir)/exports.map"] }],
        ["libdeflate==1", {
          "defines": ["DRIVESNAP_LIBDEFLATE"],
          "include_dirs": ["../libdeflate"],
          # Its gzip compression and decompression, built into the addon: no shared library to find.
          "sources": [
            "../libdeflate/lib/deflate_compress.c",
            "../libdeflate/lib/gzip_compress.c",
            "../libdeflate/lib/deflate_decompress.c",
            "../libdeflate/lib/gzip_decompress.c",
            "../libdeflate/lib/crc32.c",
            "../libdeflate/lib/utils.c",
            "../libdeflate/lib/x86/cpu_features.c",
            "../libdeflate/lib/arm/cpu_features.c"
          ]
        }]
      ]
    }
  ]
}
