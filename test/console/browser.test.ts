import type { FastifyInstance } from 'fastify';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimCase, createCase } from '../../src/cases/index.js';
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

  /** A phone-sized page logged in as `account`, failing the test on any script error. */
  async function phoneLogin(account: Account): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().includes('401')) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${base}/console`);
    await page.locator('#email').fill(account.email);
    await page.locator('#password').fill(account.password);
    await page.keyboard.press('Enter');
    await page.locator('#home').waitFor();
    return { page, problems };
  }

  it('a supervisor reassigns an agent’s case to a colleague from the case view', async () => {
    const boss = await addOfficial(bot.db, 'lead@city.test', 'supervisor', ['citizen_services']);
    const colleague = await addOfficial(bot.db, 'mate@city.test', 'agent', ['citizen_services']);
    const { reference } = await createCase(bot.db, {
      kind: 'handoff',
      category: 'public_services',
      channel: 'test',
      lang: 'en',
      fields: { description: 'my permit renewal is stuck' },
    });
    await claimCase(bot.db, reference, agent.id);

    const { page, problems } = await phoneLogin(boss);
    await page.locator(`#cases li[data-reference="${reference}"] button`).click();
    await expect.poll(() => page.locator('#case-title').textContent()).toBe(reference);
    // Keyboard only: choose the colleague and submit the reassign form.
    await page.locator('#reassign-to').focus();
    await page.locator('#reassign-to').selectOption(colleague.id);
    await page.locator('#reassign').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('[data-fact="case.assignee"]').textContent()).toBe('mate');
    expect((await bot.db.Case.findOne({ reference }).lean())?.assignee).toBe(colleague.id);
    expect(await page.locator('#live').textContent()).toBe(i18n.t('console.actions.reassigned', 'en'));
    // An agent never sees the control.
    const desk = await phoneLogin(agent);
    await desk.page.goto(`${base}/console`);
    await desk.page.locator(`#cases li[data-reference="${reference}"] button`).click();
    await expect.poll(() => desk.page.locator('#case-title').textContent()).toBe(reference);
    expect(await desk.page.locator('#reassign-form').isHidden()).toBe(true);
    expect([...problems, ...desk.problems]).toEqual([]);
  });

  it('an admin creates an official, whose shown-once password logs them in, in their language', async () => {
    const admin = await addOfficial(bot.db, 'chief@city.test', 'admin', []);
    const { page, problems } = await phoneLogin(admin);
    await page.locator('#nav-admin').click();
    await page.locator('#admin-officials li').first().waitFor();
    await page.locator('#off-email').fill('new.clerk@city.test');
    await page.locator('#off-name').fill('New Clerk');
    await page.locator('#off-role').selectOption('agent');
    await page.locator('#off-departments input[value="transport"]').check();
    await page.locator('#off-lang').selectOption('fr');
    await page.locator('#official-form button[type="submit"]').click();
    const shown = page.locator('#new-password-value');
    await expect.poll(() => shown.textContent()).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    const password = (await shown.textContent()) ?? '';
    await page.locator('#admin-officials li[data-email="new.clerk@city.test"]').waitFor();
    // Shown once: leaving the screen forgets it.
    await page.locator('#nav-home').click();
    expect(await shown.textContent()).toBe('');
    await page.locator('#logout').click();

    await page.locator('#email').fill('new.clerk@city.test');
    await page.locator('#password').fill(password);
    await page.keyboard.press('Enter');
    await page.locator('#queues li[data-department="transport"]').waitFor();
    expect(await page.locator('h1').textContent()).toBe(i18n.t('console.title', 'fr'));
    expect(await page.locator('#nav-admin').isHidden()).toBe(true);
    expect(problems).toEqual([]);
  });
});
