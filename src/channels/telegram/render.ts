import type { InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup } from 'telegraf/types';
import { toPlainText, type Reply } from '../../engine/replies.js';

/** Telegram's limits on one message's text, a photo's caption and a button's callback data. */
export const TEXT_LIMIT = 4096;
export const CAPTION_LIMIT = 1024;
export const CALLBACK_DATA_BYTES = 64;

/** One Bot API call a reply becomes; a long text becomes several, markup on the last. */
export type TelegramCall =
  | { method: 'sendMessage'; text: string; replyMarkup?: InlineKeyboardMarkup | ReplyKeyboardMarkup }
  | { method: 'sendPhoto'; photo: string; caption?: string };

/** Cuts a text into pieces Telegram accepts, preferring line breaks, never splitting a surrogate pair. */
export function splitText(text: string, limit: number = TEXT_LIMIT): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    let cut = rest.lastIndexOf('\n', limit);
    if (cut < limit / 2) cut = limit;
    const code = rest.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
    parts.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^\n/, '');
  }
  parts.push(rest);
  return parts.filter((p) => p !== '');
}

const fitsCallbackData = (value: string): boolean => Buffer.byteLength(value, 'utf8') <= CALLBACK_DATA_BYTES;
const isWebUrl = (url: string): boolean => /^https?:\/\//i.test(url);

function withMarkup(text: string, replyMarkup: InlineKeyboardMarkup | ReplyKeyboardMarkup): TelegramCall[] {
  const parts = splitText(text);
  return parts.map((part, i) =>
    i === parts.length - 1
      ? { method: 'sendMessage', text: part, replyMarkup }
      : { method: 'sendMessage', text: part },
  );
}

/**
 * Renders a reply as Bot API calls: choices as an inline keyboard (one button a row, the choice value as
 * callback data), a link as a URL button, a location request as a one-time reply keyboard, media as a
 * photo. What Telegram cannot carry degrades to {@link toPlainText}.
 *
 * @example
 * renderReply({ kind: 'choices', text: 'Category?', choices: [{ value: 'roads', label: 'Roads' }] });
 * // [{ method: 'sendMessage', text: 'Category?', replyMarkup: { inline_keyboard: [[{ text: 'Roads', callback_data: 'roads' }]] } }]
 */
export function renderReply(reply: Reply): TelegramCall[] {
  switch (reply.kind) {
    case 'text':
      return splitText(reply.text).map((text) => ({ method: 'sendMessage', text }));
    case 'choices': {
      // A value over 64 bytes cannot be callback data; the 1-based position can, and matchChoice reads digits.
      const byPosition = !reply.choices.every((c) => fitsCallbackData(c.value));
      const rows: InlineKeyboardButton[][] = reply.choices.map((c, i) => [
        { text: c.label, callback_data: byPosition ? String(i + 1) : c.value },
      ]);
      return withMarkup(reply.text, { inline_keyboard: rows });
    }
    case 'link':
      // Telegram refuses URL buttons that are not http(s) (tel:, mailto:): those stay in the text.
      if (!isWebUrl(reply.url)) return renderReply({ kind: 'text', text: toPlainText(reply) });
      return withMarkup(reply.text, { inline_keyboard: [[{ text: reply.label, url: reply.url }]] });
    case 'location_request':
      return withMarkup(reply.text, {
        keyboard: [[{ text: reply.button, request_location: true }]],
        one_time_keyboard: true,
        resize_keyboard: true,
      });
    case 'media': {
      const isImage = reply.mime === undefined || reply.mime.startsWith('image/');
      if (!isImage || !isWebUrl(reply.url)) return renderReply({ kind: 'text', text: toPlainText(reply) });
      const caption = reply.caption;
      if (caption === undefined || caption === '') return [{ method: 'sendPhoto', photo: reply.url }];
      if (caption.length <= CAPTION_LIMIT) return [{ method: 'sendPhoto', photo: reply.url, caption }];
      return [{ method: 'sendPhoto', photo: reply.url }, ...renderReply({ kind: 'text', text: caption })];
    }
  }
}
