import { toPlainText, type Reply } from '../../engine/replies.js';
import { charLength, truncate } from '../meta/window.js';

/** The `message` part of a Cloud API send (everything but `messaging_product` and `to`). */
export type WaPayload = Record<string, unknown> & { type: string };

const TEXT_MAX = 4096;
const INTERACTIVE_BODY_MAX = 1024;
const BUTTON_TITLE_MAX = 20;
const ROW_TITLE_MAX = 24;
const ROW_DESCRIPTION_MAX = 72;
const ID_MAX = 200;

const text = (body: string, previewUrl = false): WaPayload => ({
  type: 'text',
  text: { body: truncate(body, TEXT_MAX), preview_url: previewUrl },
});

/**
 * Renders a reply in the richest form WhatsApp accepts for it: up to 3 short choices as reply buttons,
 * up to 10 as a list (a label too long for a row title goes whole into the row description), and
 * numbered text beyond that or whenever a limit would garble the labels.
 */
export function renderWhatsApp(reply: Reply): WaPayload {
  switch (reply.kind) {
    case 'text':
      return text(reply.text);
    case 'link':
      return text(toPlainText(reply), true);
    case 'location_request':
      if (charLength(reply.text) > INTERACTIVE_BODY_MAX) return text(reply.text);
      return {
        type: 'interactive',
        interactive: {
          type: 'location_request_message',
          body: { text: reply.text },
          action: { name: 'send_location' },
        },
      };
    case 'media': {
      const isImage = reply.mime === undefined || reply.mime.startsWith('image/');
      const caption = reply.caption ? { caption: truncate(reply.caption, INTERACTIVE_BODY_MAX) } : {};
      return isImage
        ? { type: 'image', image: { link: reply.url, ...caption } }
        : { type: 'document', document: { link: reply.url, ...caption } };
    }
    case 'choices':
      return renderChoices(reply);
  }
}

function renderChoices(reply: Extract<Reply, { kind: 'choices' }>): WaPayload {
  const { choices } = reply;
  const fallback = text(toPlainText(reply));
  if (charLength(reply.text) > INTERACTIVE_BODY_MAX || choices.some((c) => c.value.length > ID_MAX)) {
    return fallback;
  }
  if (choices.length <= 3 && choices.every((c) => charLength(c.label) <= BUTTON_TITLE_MAX)) {
    return {
      type: 'interactive',
      interactive: {
        type: 'button',
        body: { text: reply.text },
        action: {
          buttons: choices.map((c) => ({ type: 'reply', reply: { id: c.value, title: c.label } })),
        },
      },
    };
  }
  if (choices.length > 10) return fallback;
  const rows = choices.map((c) =>
    charLength(c.label) <= ROW_TITLE_MAX
      ? { id: c.value, title: c.label }
      : {
          id: c.value,
          title: truncate(c.label, ROW_TITLE_MAX),
          description: truncate(c.label, ROW_DESCRIPTION_MAX),
        },
  );
  // WhatsApp rejects a list whose row titles repeat; truncation can make them repeat.
  if (new Set(rows.map((r) => r.title)).size !== rows.length) return fallback;
  return {
    type: 'interactive',
    interactive: {
      type: 'list',
      body: { text: reply.text },
      // The list button needs a label; a symbol and the range need no translation.
      action: { button: `☰ 1–${rows.length}`, sections: [{ rows }] },
    },
  };
}

/**
 * The approved template sent outside the 24-hour window: one body parameter carrying the reply's text
 * (Meta forbids newlines and long space runs in parameters, so they are flattened).
 */
export function renderTemplate(reply: Reply, name: string, lang: string): WaPayload {
  const flat = toPlainText(reply)
    .replace(/\s*\n+\s*/g, ' · ')
    .replace(/\s{4,}/g, '   ')
    .trim();
  return {
    type: 'template',
    template: {
      name,
      language: { code: lang },
      components: [{ type: 'body', parameters: [{ type: 'text', text: truncate(flat || '…', 1000) }] }],
    },
  };
}
