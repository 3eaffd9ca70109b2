// binarytrees.c — the C version of examples/wasm/assembly/binarytrees.ts: the same
// workload, the same exports, the same ring layout, so examples/wasm/threads.ts and
// bench/wasm.ts drive either. Built by build.sh with Debian's clang and lld:
//
//   binarytrees-goheap.wasm  malloc/free/calloc/realloc imported from goheap (env), the
//       heap's shared memory imported, data at --global-base (inside the heap's static
//       region); wasm-ld makes the data segments passive and copies them once, from the
//       start function __wasm_init_memory, at the addresses it linked them for.
//   binarytrees-dlmalloc.wasm  the same code on wasi-libc's malloc (dlmalloc) over the
//       module's own unshared memory: the baseline.
//
// The shadow stack is the C stack: itemCheck and freeTree keep their explicit DFS stack in
// a local array, which clang places below __stack_pointer.
#include <stddef.h>
#include <stdint.h>

void *malloc(size_t size);
void free(void *p);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t size);

#define EXPORT(name) __attribute__((export_name(#name)))
#define MAX_DEPTH 24

typedef struct Node { struct Node *left, *right; } Node;

/** Nodes in a full tree of depth d (static data: the module's data segment). */
static const uint32_t NODES[MAX_DEPTH + 1] = {
  1, 3, 7, 15, 31, 63, 127, 255, 511, 1023, 2047, 4095, 8191, 16383, 32767, 65535,
  131071, 262143, 524287, 1048575, 2097151, 4194303, 8388607, 16777215, 33554431,
};

#ifdef __wasm_atomics__
#define LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define WAIT(p, v) __builtin_wasm_memory_atomic_wait32((int32_t *)(p), (int32_t)(v), 50000)
#else
#define LOAD_ACQ(p) (*(p))
#define STORE_REL(p, v) (*(p) = (v))
#define WAIT(p, v) ((void)0)
#endif

EXPORT(bottomUpTree) Node *bottomUpTree(int depth) {
  Node *node = malloc(sizeof(Node));
  if (!node) __builtin_trap();
  if (depth > 0) {
    node->left = bottomUpTree(depth - 1);
    node->right = bottomUpTree(depth - 1);
  } else {
    node->left = node->right = 0;
  }
  return node;
}

EXPORT(itemCheck) uint32_t itemCheck(Node *tree, int depth) {
  if (depth > MAX_DEPTH) __builtin_trap();
  Node *volatile todo[MAX_DEPTH + 2]; // on the shadow stack
  int top = 0;
  uint32_t n = 0;
  todo[top++] = tree;
  while (top > 0) {
    Node *node = todo[--top];
    n++;
    if (node->left) { todo[top++] = node->right; todo[top++] = node->left; }
  }
  return n;
}

EXPORT(freeTree) void freeTree(Node *tree, int depth) {
  if (depth > MAX_DEPTH) __builtin_trap();
  Node *volatile todo[MAX_DEPTH + 2];
  int top = 0;
  todo[top++] = tree;
  while (top > 0) {
    Node *node = todo[--top];
    if (node->left) { todo[top++] = node->right; todo[top++] = node->left; }
    free(node);
  }
}

// Rings: single producer, single consumer; the layout of binarytrees.ts.
typedef struct Ring {
  uint32_t head; uint32_t pad0[15];
  uint32_t tail; uint32_t pad1[15];
  uint32_t cap; uint32_t pad2[15];
  Node *slots[];
} Ring;

EXPORT(ringNew) Ring *ringNew(uint32_t cap) {
  Ring *r = calloc(1, sizeof(Ring) + cap * sizeof(Node *));
  if (!r) __builtin_trap();
  r->cap = cap;
  return r;
}

EXPORT(ringFree) void ringFree(Ring *r) { free(r); }

static int ringPush(Ring *r, Node *t) {
  uint32_t tail = r->tail;
  if (tail - LOAD_ACQ(&r->head) == r->cap) return 0;
  r->slots[tail & (r->cap - 1)] = t;
  STORE_REL(&r->tail, tail + 1);
  return 1;
}

static Node *ringPop(Ring *r) {
  uint32_t head = r->head;
  if (LOAD_ACQ(&r->tail) == head) return 0;
  Node *t = r->slots[head & (r->cap - 1)];
  STORE_REL(&r->head, head + 1);
  return t;
}

// The consumer's batch, grown by realloc. Local to runDepth (on the shadow stack), not a
// C global: globals live in the shared memory, and every thread has its own batch.
#define BATCH 64
typedef struct Batch { Node **v; int cap, len; } Batch;

static uint32_t drainBatch(Batch *b, int depth) {
  uint32_t sum = 0;
  for (int i = 0; i < b->len; i++) {
    uint32_t c = itemCheck(b->v[i], depth);
    if (c != NODES[depth]) __builtin_trap();
    sum += c;
    freeTree(b->v[i], depth);
  }
  b->len = 0;
  return sum;
}

static uint32_t take(Batch *b, Node *t, int depth) {
  if (b->len == b->cap) {
    b->cap = b->cap == 0 ? 4 : b->cap * 2;
    b->v = realloc(b->v, (size_t)b->cap * sizeof(Node *));
    if (!b->v) __builtin_trap();
  }
  b->v[b->len++] = t;
  return b->len >= BATCH ? drainBatch(b, depth) : 0;
}

EXPORT(runDepth) uint32_t runDepth(int depth, int iterations, Ring *out, Ring *in, int expectIn) {
  Batch b = {0, 0, 0};
  uint32_t sum = 0;
  int got = 0;
  for (int i = 0; i < iterations; i++) {
    Node *t = bottomUpTree(depth);
    int spins = 0;
    while (!ringPush(out, t)) {
      Node *u = got < expectIn ? ringPop(in) : 0;
      if (u) { got++; sum += take(&b, u, depth); continue; }
      if (++spins > 1000) WAIT(&out->head, LOAD_ACQ(&out->head));
    }
    for (Node *u = got < expectIn ? ringPop(in) : 0; u; u = got < expectIn ? ringPop(in) : 0) {
      got++; sum += take(&b, u, depth);
    }
  }
  int spins = 0;
  while (got < expectIn) {
    Node *u = ringPop(in);
    if (u) { got++; sum += take(&b, u, depth); spins = 0; continue; }
    if (++spins > 1000) WAIT(&in->tail, LOAD_ACQ(&in->tail));
  }
  sum += drainBatch(&b, depth);
  free(b.v);
  return sum;
}

/** Nothing to release between runs (the AssemblyScript version frees its batch here). */
EXPORT(finish) void finish(void) {}

EXPORT(churn) void churn(int n, size_t size) {
  for (int i = 0; i < n; i++) {
    volatile uint32_t *p = malloc(size);
    if (!p) __builtin_trap();
    *p = (uint32_t)i;
    free((void *)p);
  }
}

#ifndef __wasm_atomics__
/** The baseline's shadow stack: from its own malloc, in its own memory. */
EXPORT(stackAlloc) void *stackAlloc(size_t size) { return malloc(size); }
#endif
