{
  "targets": [
    {
      "target_name": "goheap_release",
      "sources": ["release.cc"],
      "cflags_cc": ["-O2"]
    }
  ]
}
