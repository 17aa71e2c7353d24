import Module from 'node:module';

type Compile = (this: unknown, content: string, filename: string) => unknown;
const proto = Module.prototype as unknown as Record<symbol, unknown> & { _compile: Compile };

/**
 * Rewrites third-party CommonJS files as Node compiles them: each file `rewrite` returns a source for
 * is compiled from that source instead (undefined: as shipped). A rewrite that throws leaves the
 * file as shipped, with a warning of `code` naming the file and saying `what` could not be done.
 * Installed once per `code` and thread (the mark is on Node's own prototype, so a module loaded
 * again, as test runners do, does not wrap it twice); it applies to files loaded after it.
 *
 * @example
 * rewriteOnLoad('CIVIC_NATIVE_ASYNC', 'its async functions could not be made native', (content, filename) =>
 *   REWRITTEN.test(filename) ? nativeAsync(content) : undefined);
 */
export function rewriteOnLoad(
  code: string,
  what: string,
  rewrite: (content: string, filename: string) => string | undefined,
): void {
  const mark = Symbol.for(`civic.rewriteOnLoad.${code}`);
  if (proto[mark] === true) return;
  proto[mark] = true;
  const compile = proto._compile;
  proto._compile = function compileRewritten(this: unknown, content: string, filename: string): unknown {
    let source = content;
    try {
      source = rewrite(content, filename) ?? content;
    } catch (err) {
      process.emitWarning(
        `${filename} loads as shipped (${what}: ${err instanceof Error ? err.message : String(err)})`,
        { code },
      );
    }
    return compile.call(this, source, filename);
  };
}
