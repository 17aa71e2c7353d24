/**
 * `{ ...base, ...extra }`, built so that objects of the same shape share one hidden class.
 *
 * Node 20's V8 (11.3) gives every object made by a spread and then a property the spread did not
 * bring (`{ ...doc, seq }`, `{ ...a, ...b }`) a hidden class (map) of its own: 0.4–1.5 µs instead of
 * 25 ns, and a map with its descriptors allocated in the old generation for each object, which only
 * a full collection frees, and which keeps what it points at alive through every young collection
 * until then (BENCHMARKS.md, Load). `Object.assign` onto a fresh `{}` adds the properties one by one
 * along transitions V8 shares. (angular-cli writes spreads out for a V8 object-spread defect too:
 * angular/angular-cli#24164.)
 *
 * For the app's own objects (documents and messages it builds, state it wrote): unlike a spread, an
 * own `__proto__` key of `base` or `extra` would set the result's prototype.
 *
 * @example
 * const claimed = withFields(doc, { status: 'sending', lease }); // as { ...doc, status: 'sending', lease }
 */
export function withFields<A extends object, B extends object>(base: A, extra: B): Omit<A, keyof B> & B {
  return Object.assign({}, base, extra);
}
