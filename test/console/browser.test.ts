import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPlainText } from '../../src/engine/replies.js';
import { loadTranslator } from '../../src/i18n/index.js';
import { startTestBot, type TestBot } from '../helpers/bot.js';
import { launchBrowser } from '../helpers/browser.js';
import { addOfficial, consoleApp, type Account } from './harness.js';

const i18n = loadTranslator();
const REFERENCE = /C-[2-9A-HJKMNP-Z]{6}/;

let bot: TestBot;
let http: FastifyInstance;
let browser: Browser;
let base: string;
let agent: Account;

beforeAll(async () => {
  bot = await startTestBot();
  http = await consoleApp(bot, { eventsPollMs: 200 });
  base = await http.listen({ port: 0, host: '127.0.0.1' });
  agent = await addOfficial(bot.db, 'desk@city.test', 'agent', ['citizen_services']);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await http?.close();
  await bot?.stop();
});

describe('the console in a browser', () => {
  it('logs in, sees a new case arrive live, claims it, answers, resolves, and shows the citizen’s rating', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } }); // a phone
    const problems: string[] = [];
    page.on('console', (m) => {
      // The first GET /api/v1/me answers 401 before login: that is how the page knows to show the form.
      if (m.type() === 'error' && !m.text().includes('401')) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));

    await page.goto(`${base}/console`);
    await page.locator('#email').fill(agent.email);
    await page.locator('#password').fill(agent.password);
    await page.keyboard.press('Enter');
    const queue = page.locator('#queues li[data-department="citizen_services"]');
    await queue.waitFor();
    await expect.poll(() => queue.locator('.waiting').textContent()).toBe('0');
    // The page is in the official's language, from locales/.
    expect(await page.locator('h1').textContent()).toBe(i18n.t('console.title', 'en'));

    // A citizen asks for a human while the official is looking: the case appears without a reload.
    const handoff = await bot.send('let me speak to a human please', 'web-citizen');
    const reference = REFERENCE.exec(handoff.map(toPlainText).join('\n'))?.[0] ?? '';
    expect(reference).not.toBe('');
    await page.locator(`#cases li[data-reference="${reference}"]`).waitFor({ timeout: 10_000 });
    await expect.poll(() => queue.locator('.waiting').textContent(), { timeout: 10_000 }).toBe('1');
    expect(await page.locator('#live').textContent()).toContain(reference);

    await queue.locator('button.claim-next').click();
    await expect.poll(() => page.locator('#case-title').textContent()).toBe(reference);

    // A canned answer in the case's language fills the answer box; sending it reaches the citizen.
    await page.locator('#canned').selectOption({ index: 1 });
    const answer = await page.locator('#reply-text').inputValue();
    expect(answer).toBe(i18n.t('console.canned.acknowledge.text', 'en'));
    await page.locator('#send-reply').click();
    await bot.collector.waitFor(() => bot.transcript('web-citizen').some((t) => t.includes(answer)));
    const official = page.locator('#transcript li.from-official');
    await expect
      .poll(() => official.locator('.delivery').textContent(), { timeout: 10_000 })
      .toBe(i18n.t('console.delivery.sent', 'en'));

    await page.locator('#resolve-note').fill('Your appointment is booked for Monday at 10:00.');
    await page.locator('#resolve').click();
    await bot.collector.waitFor(() =>
      bot.transcript('web-citizen').some((t) => t.includes(i18n.t('case_update.rating_ask', 'en'))),
    );
    await bot.send('5', 'web-citizen');
    expect((await bot.db.Case.findOne({ reference }).lean())?.rating).toBe(5);
    // The rating reaches the open case view live.
    await expect
      .poll(() => page.locator('[data-fact="case.rating"]').textContent(), { timeout: 10_000 })
      .toBe('5/5');
    expect(problems).toEqual([]);
  });
});
