import { toPlainText, type Reply } from '../../engine/replies.js';
import { charLength, truncate } from '../meta/window.js';

/** The `message` object of a Send API call. */
export type MessengerMessage = Record<string, unknown>;

const TEXT_MAX = 2000;
const BUTTON_TEXT_MAX = 640;
const QUICK_REPLIES_MAX = 13;
const TITLE_MAX = 20;
const PAYLOAD_MAX = 1000;

/** Splits text into Send API-sized pieces, on line breaks where possible. */
function texts(body: string): MessengerMessage[] {
  const chars = Array.from(body);
  if (chars.length <= TEXT_MAX) return [{ text: body }];
  const out: MessengerMessage[] = [];
  let rest = chars;
  while (rest.length > 0) {
    let end = Math.min(TEXT_MAX, rest.length);
    if (end < rest.length) {
      const newline = rest.lastIndexOf('\n', end);
      if (newline > TEXT_MAX / 2) end = newline + 1;
    }
    out.push({ text: rest.slice(0, end).join('') });
    rest = rest.slice(end);
  }
  return out;
}

/**
 * Renders a reply as one or more Send API messages: choices as quick replies (≤ 13, titles ≤ 20, or
 * numbered text), a link as a button template, media as an image attachment.
 */
export function renderMessenger(reply: Reply): MessengerMessage[] {
  switch (reply.kind) {
    case 'text':
    case 'location_request':
      // Messenger retired the location quick reply: the citizen types the place or shares it.
      return texts(reply.text);
    case 'link':
      if (charLength(reply.text) > BUTTON_TEXT_MAX) return texts(toPlainText(reply));
      return [
        {
          attachment: {
            type: 'template',
            payload: {
              template_type: 'button',
              text: reply.text,
              buttons: [{ type: 'web_url', url: reply.url, title: truncate(reply.label, TITLE_MAX) }],
            },
          },
        },
      ];
    case 'media': {
      const type = reply.mime === undefined || reply.mime.startsWith('image/') ? 'image' : 'file';
      const attachment = { attachment: { type, payload: { url: reply.url, is_reusable: true } } };
      return reply.caption ? [attachment, ...texts(reply.caption)] : [attachment];
    }
    case 'choices': {
      // A long label is cut rather than abandoning buttons, unless cutting makes two titles alike.
      const titles = reply.choices.map((c) => truncate(c.label, TITLE_MAX));
      const fits =
        reply.choices.length <= QUICK_REPLIES_MAX &&
        charLength(reply.text) <= TEXT_MAX &&
        new Set(titles).size === titles.length &&
        reply.choices.every((c) => c.value.length <= PAYLOAD_MAX);
      if (!fits) return texts(toPlainText(reply));
      return [
        {
          text: reply.text,
          quick_replies: reply.choices.map((c, i) => ({
            content_type: 'text',
            title: titles[i],
            payload: c.value,
          })),
        },
      ];
    }
  }
}
