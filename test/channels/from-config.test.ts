import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { channelsFromConfig } from '../../src/channels/from-config.js';
import { loadConfig } from '../../src/config.js';

const log = pino({ level: 'silent' });

describe('channels from the environment', () => {
  it('switches on only the web chat when no platform is configured', () => {
    expect(channelsFromConfig(loadConfig({}), log)).toEqual({ factories: [], summary: [] });
  });

  it('switches on every fully configured platform', () => {
    const config = loadConfig({
      TELEGRAM_BOT_TOKEN: '123:abc',
      WHATSAPP_TOKEN: 't',
      WHATSAPP_PHONE_NUMBER_ID: '1',
      WHATSAPP_APP_SECRET: 's',
      WHATSAPP_VERIFY_TOKEN: 'v',
      MESSENGER_PAGE_TOKEN: 'p',
      MESSENGER_APP_SECRET: 's',
      MESSENGER_VERIFY_TOKEN: 'v',
    });
    const { factories, summary } = channelsFromConfig(config, log);
    expect(factories).toHaveLength(3);
    expect(summary.join('\n')).toMatch(/telegram: long polling[\s\S]*whatsapp \(Cloud API\)[\s\S]*messenger/);
  });

  it('names the missing settings of a half-configured platform', () => {
    const config = loadConfig({ WHATSAPP_TOKEN: 't', WHATSAPP_APP_SECRET: 's' });
    expect(() => channelsFromConfig(config, log)).toThrow(/WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_VERIFY_TOKEN/);
  });

  it('refuses Telegram webhook mode without its secret', () => {
    const config = loadConfig({ TELEGRAM_BOT_TOKEN: '123:abc', PUBLIC_URL: 'https://bot.example.gov' });
    expect(() => channelsFromConfig(config, log)).toThrow(/TELEGRAM_WEBHOOK_SECRET/);
  });

  it('rejects a malformed setting at start with its name', () => {
    expect(() => loadConfig({ TELEGRAM_WEBHOOK_SECRET: 'short', PORT: 'eighty' })).toThrow(
      /TELEGRAM_WEBHOOK_SECRET[\s\S]*PORT|PORT[\s\S]*TELEGRAM_WEBHOOK_SECRET/,
    );
  });
});
