// goheap_release: give pages of a SharedArrayBuffer (or ArrayBuffer) back to the kernel.
//
// Go: sysUnused on Linux (mem_linux.go) calls madvise(MADV_DONTNEED) on released heap
// pages. A JavaScript buffer cannot do that itself: a SharedArrayBuffer cannot shrink, and
// N-API has no way to reach a SharedArrayBuffer's memory, so this addon uses V8's
// BackingStore directly. One function:
//
//   madvise(buffer, offset, length) -> 0 on success, else an errno value
//
// offset and length must be multiples of the OS page size and inside the buffer's current
// length. After it returns 0 the range reads back as zero (private anonymous memory) and
// costs no physical memory until it is written again.
#include <node.h>
#include <v8.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <sys/mman.h>
#include <unistd.h>

namespace {

using v8::BackingStore;
using v8::FunctionCallbackInfo;
using v8::Int32;
using v8::Local;
using v8::Value;

void Madvise(const FunctionCallbackInfo<Value>& args) {
  auto ret = [&](int v) { args.GetReturnValue().Set(Int32::New(args.GetIsolate(), v)); };
  if (args.Length() < 3 || !args[1]->IsNumber() || !args[2]->IsNumber()) return ret(EINVAL);
  std::shared_ptr<BackingStore> bs;
  if (args[0]->IsSharedArrayBuffer()) {
    bs = args[0].As<v8::SharedArrayBuffer>()->GetBackingStore();
  } else if (args[0]->IsArrayBuffer()) {
    bs = args[0].As<v8::ArrayBuffer>()->GetBackingStore();
  } else {
    return ret(EINVAL);
  }
  const double off = args[1].As<v8::Number>()->Value();
  const double len = args[2].As<v8::Number>()->Value();
  const long psz = sysconf(_SC_PAGESIZE);
  const double have = static_cast<double>(bs->ByteLength());
  if (!(off >= 0) || !(len > 0) || off + len > have) return ret(ERANGE);
  const uintptr_t start = reinterpret_cast<uintptr_t>(bs->Data()) + static_cast<uintptr_t>(off);
  const size_t n = static_cast<size_t>(len);
  if (psz <= 0 || start % static_cast<uintptr_t>(psz) != 0 || n % static_cast<size_t>(psz) != 0) return ret(EINVAL);
  if (madvise(reinterpret_cast<void*>(start), n, MADV_DONTNEED) != 0) return ret(errno);
  ret(0);
}

}  // namespace

// Context-aware, so worker threads can load it too.
NODE_MODULE_INIT(/* exports, module, context */) {
  NODE_SET_METHOD(exports, "madvise", Madvise);
}
