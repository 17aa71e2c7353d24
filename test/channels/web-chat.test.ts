import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTranslator } from '../../src/i18n/index.js';
import { startTestBot, type TestBot } from '../helpers/bot.js';
import { launchBrowser } from '../helpers/browser.js';

const i18n = loadTranslator();
let bot: TestBot;
let browser: Browser;
let base: string;

beforeAll(async () => {
  bot = await startTestBot();
  base = await bot.app.http.listen({ host: '127.0.0.1', port: 0 });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await bot?.stop();
});

describe('web chat in a real browser', () => {
  it('greets, offers tappable choices, and answers a typed question with a link', async () => {
    const page = await browser.newPage({ locale: 'en-US' });
    await page.goto(`${base}/chat`);
    // The page opens the conversation itself: the privacy notice and the menu arrive over the event stream.
    await page.getByText(i18n.t('greet.menu', 'en')).waitFor();
    await page.getByRole('button', { name: i18n.t('menu.services', 'en') }).click();
    await page.getByText(i18n.t('menu.services_pick', 'en')).waitFor();

    await page.getByRole('textbox').fill('how do i renew my passport');
    await page.keyboard.press('Enter');
    const link = page.getByRole('link', { name: i18n.t('common.more_info', 'en') }).last();
    await link.waitFor();
    expect(await link.getAttribute('href')).toBe(i18n.t('services.passport.link', 'en'));
    await page.close();
  });

  it('serves the page in the browser language, right to left for Arabic', async () => {
    const page = await browser.newPage({ locale: 'ar' });
    await page.goto(`${base}/chat`);
    expect(await page.getAttribute('html', 'dir')).toBe('rtl');
    expect(await page.getAttribute('html', 'lang')).toBe('ar');
    await page.close();
  });

  it("does not hold the app's stop while a page is connected", async () => {
    const other = await startTestBot();
    const url = await other.app.http.listen({ host: '127.0.0.1', port: 0 });
    const page = await browser.newPage({ locale: 'en-US' });
    await page.goto(`${url}/chat`);
    await page.getByText(i18n.t('greet.menu', 'en')).waitFor(); // the event stream is open
    const started = Date.now();
    await other.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    await page.close();
  });

  it('rejects a malformed message with 400 and accepts a retried one only once', async () => {
    const bad = await bot.app.http.inject({
      method: 'POST',
      url: '/chat/api/messages',
      payload: { session: 'x' },
    });
    expect(bad.statusCode).toBe(400);
    const body = { session: 'abcdefghijklmnop1234', id: 'msg-00000001', text: 'hello' };
    const first = await bot.app.http.inject({ method: 'POST', url: '/chat/api/messages', payload: body });
    const again = await bot.app.http.inject({ method: 'POST', url: '/chat/api/messages', payload: body });
    expect(first.json()).toEqual({ status: 'accepted' });
    expect(again.json()).toEqual({ status: 'duplicate' });
  });
});
