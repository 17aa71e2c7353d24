/**
 * botbuilder 4.23 ships JavaScript compiled for ES2015: each of its async methods is
 * `__awaiter(this, void 0, void 0, function* () { … yield x … })`, so every call creates a new
 * generator function. V8 gives each such function a map of its own, allocated in the old
 * generation, and that map points back at the function, whose scope holds what the method was
 * given (the dialog context, the turn context, options). Nothing but a full collection frees an old
 * map, so everything a turn's dialogs touch survives every young-generation collection until then:
 * at 520 messages/s this was a third of what the old generation grew by (BENCHMARKS.md, Load).
 *
 * Importing this module (first, before anything loads botbuilder) makes botbuilder-core's and
 * botbuilder-dialogs' files load as the async functions their TypeScript sources declare: each
 * such call becomes `(async () => { … await (x) … })()`. Behaviour is the same: the body starts
 * synchronously, `this` is the method's, a throw or rejection rejects the returned promise, and
 * `await` waits as `yield` did (`__awaiter` passes no arguments to the generator, which reads none).
 * A file not exactly of that shape loads as shipped, with a warning.
 *
 * @example
 * // src/main.ts, as its first import:
 * import './engine/native-async.js';
 */
import { parse, type Node, type Options } from 'acorn';
import { fullAncestor } from 'acorn-walk';
import { rewriteOnLoad } from '../module-rewrite.js';

/** The packages whose compiled files are rewritten: the ones a turn runs through. */
const REWRITTEN = /[\\/]node_modules[\\/]botbuilder-(core|dialogs)[\\/]lib[\\/].*\.js$/;
const PARSE: Options = { ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true };

function isVoid0(node: Node | undefined): boolean {
  return (
    node?.type === 'UnaryExpression' &&
    'operator' in node &&
    node.operator === 'void' &&
    'argument' in node &&
    isNode(node.argument) &&
    node.argument.type === 'Literal' &&
    'value' in node.argument &&
    node.argument.value === 0
  );
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && 'type' in value && 'start' in value;
}

const NON_ARROW = new Set(['FunctionExpression', 'FunctionDeclaration']);
const FUNCTION_TYPES = new Set([...NON_ARROW, 'ArrowFunctionExpression']);

/**
 * `source` with every `__awaiter(this | void 0, void 0, void 0, function* () { … })` call turned
 * into an immediately called async arrow function, or undefined when it has none. Throws when the
 * file has a generator of any other kind (a `yield` outside those calls), a generator body reads
 * `arguments`, or the result does not parse.
 */
export function nativeAsync(source: string): string | undefined {
  const program = parse(source, PARSE);
  const edits: { at: number; end: number; text: string }[] = [];
  const generators = new Set<Node>();
  // Two walks: the walker reaches a node's children before the node, so the calls are found first.
  fullAncestor(program, (node) => {
    if (node.type === 'CallExpression' && 'callee' in node && 'arguments' in node) {
      const { callee } = node;
      const args: unknown[] = node.arguments;
      const [self, passed, promise, body] = args.filter(isNode);
      if (
        callee.type === 'Identifier' &&
        'name' in callee &&
        callee.name === '__awaiter' &&
        args.length === 4 &&
        (self?.type === 'ThisExpression' || isVoid0(self)) &&
        isVoid0(passed) &&
        isVoid0(promise) &&
        body?.type === 'FunctionExpression' &&
        'generator' in body &&
        body.generator === true &&
        'async' in body &&
        body.async === false &&
        'params' in body &&
        Array.isArray(body.params) &&
        body.params.length === 0 &&
        'body' in body &&
        isNode(body.body)
      ) {
        generators.add(body);
        edits.push({ at: node.start, end: body.body.start, text: '(async () => ' });
        edits.push({ at: body.body.end, end: node.end, text: ')()' });
      }
    }
  });
  fullAncestor(program, (node, _state, ancestors) => {
    // An arrow function reads its enclosing function's `arguments`; the generator read its own (none).
    if (node.type === 'Identifier' && 'name' in node && node.name === 'arguments') {
      const owner = ancestors.findLast((a) => a !== node && NON_ARROW.has(a.type));
      if (owner !== undefined && generators.has(owner))
        throw new Error(`\`arguments\` read at ${node.start}`);
    }
    if (node.type === 'YieldExpression') {
      const inner = ancestors.findLast((a) => a !== node && FUNCTION_TYPES.has(a.type));
      if (inner === undefined || !generators.has(inner) || ('delegate' in node && node.delegate === true)) {
        throw new Error(`a yield at ${node.start} outside an __awaiter generator`);
      }
      const argument = 'argument' in node && isNode(node.argument) ? node.argument : undefined;
      if (argument) {
        // `await` binds tighter than `yield`: the operand keeps its extent in parentheses.
        edits.push({ at: node.start, end: node.start + 'yield'.length, text: 'await (' });
        edits.push({ at: node.end, end: node.end, text: ')' });
      } else {
        edits.push({ at: node.start, end: node.end, text: 'await undefined' });
      }
    }
  });
  if (generators.size === 0) return undefined;
  // Applied from the end of the file, so the offsets of the edits still to apply stay valid.
  edits.sort((a, b) => b.at - a.at || b.end - a.end);
  let out = source;
  for (const { at, end, text } of edits) out = out.slice(0, at) + text + out.slice(end);
  parse(out, PARSE);
  return out;
}

rewriteOnLoad('CIVIC_NATIVE_ASYNC', 'its async functions could not be made native', (content, filename) =>
  REWRITTEN.test(filename) && content.includes('__awaiter(') ? nativeAsync(content) : undefined,
);
