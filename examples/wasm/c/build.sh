#!/bin/sh
# Builds the C version of the wasm example with Debian 12's clang 14 and lld (apt-get install
# -y clang lld wasi-libc libclang-rt-14-dev-wasm32; the last two only for the dlmalloc
# baseline). The built modules are committed, so nothing else needs clang:
#   binarytrees-goheap.wasm    goheap's malloc (imported), the heap's shared memory, data at
#                              1 MiB (STATIC_BASE in ../threads.ts), __stack_pointer exported
#                              for instantiateOnHeap, __global_base/__data_end exported so it
#                              can check the (passive) data segments' range.
#   binarytrees-dlmalloc.wasm  wasi-libc's malloc (dlmalloc), its own memory: the baseline.
set -eu
cd "$(dirname "$0")"
clang --version | head -1
clang --target=wasm32 -nostdlib -fno-builtin -O2 -matomics -mbulk-memory -mmutable-globals \
  -Wl,--no-entry -Wl,--import-memory -Wl,--shared-memory -Wl,--max-memory=4294967296 \
  -Wl,--global-base=1048576 -Wl,-z,stack-size=0 \
  -Wl,--export=__stack_pointer -Wl,--export=__global_base -Wl,--export=__data_end \
  -Wl,--allow-undefined-file=goheap.syms \
  -o binarytrees-goheap.wasm binarytrees.c
clang --target=wasm32-wasi -O2 -mmutable-globals -mexec-model=reactor -Wl,--export=__stack_pointer \
  -o binarytrees-dlmalloc.wasm binarytrees.c
ls -l binarytrees-goheap.wasm binarytrees-dlmalloc.wasm
