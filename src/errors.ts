/**
 * Typed errors of goheap.
 *
 * Go's runtime reports most of these conditions with `throw` (a fatal error that ends the
 * process). A JS library cannot end its host, so every condition that user input can cause
 * is a catchable error of its own class, raised *before* any allocator state changes, so the
 * heap stays consistent and usable afterwards. Conditions that only a bug in goheap itself
 * can cause (a broken invariant) raise {@link HeapCorruptionError}.
 *
 * @module
 */

/** Base class of every error goheap throws. */
export class GoHeapError extends Error {
  override name = 'GoHeapError';
}

/** A size argument is not a non-negative safe integer, or is larger than the reservation. */
export class InvalidSizeError extends GoHeapError {
  override name = 'InvalidSizeError';
}

/** A pointer passed to free/realloc/usableSize is not the base of a live object. */
export class InvalidPointerError extends GoHeapError {
  override name = 'InvalidPointerError';
}

/** free of an object that is already dead. */
export class DoubleFreeError extends InvalidPointerError {
  override name = 'DoubleFreeError';
}

/** The reservation (the buffer's maxByteLength) cannot hold the request. */
export class OutOfMemoryError extends GoHeapError {
  override name = 'OutOfMemoryError';
}

/** A sys* call asked for a transition the OS memory state machine does not allow. */
export class IllegalTransitionError extends GoHeapError {
  override name = 'IllegalTransitionError';
}

/** An option or argument other than a size or a pointer is invalid. */
export class InvalidArgumentError extends GoHeapError {
  override name = 'InvalidArgumentError';
}

/** heap.check() found allocator metadata that disagrees with itself, or an internal invariant broke. */
export class HeapCorruptionError extends GoHeapError {
  override name = 'HeapCorruptionError';
}

/** Thrown when every P is taken (maxProcs contexts are attached). */
export class NoFreePError extends GoHeapError {
  override name = 'NoFreePError';
}

/** The heap handle was detached (or reclaimed): it cannot be used any more. */
export class DetachedHeapError extends GoHeapError {
  override name = 'DetachedHeapError';
}

/**
 * A value as an error message shows it, with its type when that is not a plain number:
 * `"16" (a string)`, `16n (a bigint)`, `Symbol(x)`, `null`, `an object`. Never throws
 * (a template literal throws on a Symbol).
 */
export function describeValue(v: unknown): string {
  switch (typeof v) {
    case 'number': return String(v);
    case 'string': return `${JSON.stringify(v)} (a string)`;
    case 'bigint': return `${v}n (a bigint)`;
    case 'symbol': return `${v.toString()} (a symbol)`;
    case 'boolean': return `${v} (a boolean)`;
    case 'undefined': return 'undefined';
    case 'function': return 'a function';
    default: return v === null ? 'null' : Array.isArray(v) ? 'an array' : 'an object';
  }
}
