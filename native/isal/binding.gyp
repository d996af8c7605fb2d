{
  "targets": [
    {
      "target_name": "drivesnap_isal",
      "sources": ["src/isal_gzip.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "libraries": ["-lisal"]
    }
  ]
}
