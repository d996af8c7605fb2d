{
  "variables": {
    # 1: deflate through libdeflate (scripts/build-native.mjs sets it when libdeflate-dev is installed).
    "libdeflate%": 0
  },
  "targets": [
    {
      "target_name": "drivesnap_isal",
      "sources": ["src/isal_gzip.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "libraries": ["-lisal"],
      "conditions": [
        ["libdeflate==1", {
          "defines": ["DRIVESNAP_LIBDEFLATE"],
          "libraries": ["-ldeflate"]
        }]
      ]
    }
  ]
}
