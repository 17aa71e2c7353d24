import { z } from 'zod';

export const choiceSchema = z.object({ value: z.string().min(1).max(64), label: z.string().min(1).max(256) });
export type Choice = z.infer<typeof choiceSchema>;

/**
 * The closed union of what the bot can say. Dialogs produce these; each channel renders what it can
 * and degrades the rest to text (see {@link toPlainText}).
 */
export const replySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('text'), text: z.string().min(1) }),
  z.object({
    kind: z.literal('choices'),
    text: z.string().min(1),
    choices: z.array(choiceSchema).min(1).max(20),
  }),
  z.object({ kind: z.literal('link'), text: z.string().min(1), url: z.url(), label: z.string().min(1) }),
  z.object({ kind: z.literal('location_request'), text: z.string().min(1), button: z.string().min(1) }),
  z.object({
    kind: z.literal('media'),
    url: z.string().min(1),
    mime: z.string().optional(),
    caption: z.string().optional(),
  }),
]);
export type Reply = z.infer<typeof replySchema>;

/**
 * The text-only rendering every channel can fall back to: choices become numbered lines the citizen can
 * answer with a digit, a link is printed after its text.
 *
 * @example
 * toPlainText({ kind: 'choices', text: 'Category?', choices: [{ value: 'roads', label: 'Roads' }] });
 * // "Category?\n1. Roads"
 */
export function toPlainText(reply: Reply): string {
  switch (reply.kind) {
    case 'text':
    case 'location_request':
      return reply.text;
    case 'choices':
      return [reply.text, ...reply.choices.map((c, i) => `${i + 1}. ${c.label}`)].join('\n');
    case 'link':
      return `${reply.text}\n${reply.url}`;
    case 'media':
      return reply.caption ? `${reply.caption}\n${reply.url}` : reply.url;
  }
}

const fold = (s: string): string =>
  s
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[\s.,!?;:。！？،؟]+/gu, ' ')
    .trim();

/** Eastern Arabic and full-width digits count as digits: citizens type what their keyboard gives. */
const toAsciiDigits = (s: string): string =>
  s
    .replace(/[٠-٩]/g, (d) => String(d.charCodeAt(0) - 0x660))
    .replace(/[０-９]/g, (d) => String(d.charCodeAt(0) - 0xff10));

/**
 * Maps what the citizen sent back to one of the offered choices: a tapped value, a number ("2", "٢"),
 * or the label itself (accents and case ignored). Undefined when nothing matches.
 */
export function matchChoice(
  input: { text?: string; choice?: string },
  choices: readonly Choice[],
): Choice | undefined {
  if (input.choice !== undefined) {
    const tapped = choices.find((c) => c.value === input.choice);
    if (tapped) return tapped;
  }
  const text = input.text ?? input.choice;
  if (text === undefined) return undefined;
  const digits = toAsciiDigits(text.trim());
  if (/^\d{1,2}\.?$/.test(digits)) return choices[Number.parseInt(digits, 10) - 1];
  const folded = fold(text);
  if (folded === '') return undefined;
  return choices.find((c) => fold(c.label) === folded || fold(c.value) === folded);
}
