import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { LOCALES_DIR } from '../i18n/index.js';
import type { Lang } from '../nlu/catalog.js';

const PUBLIC_DIR = join(import.meta.dirname, 'public');

const FILES = {
  '/console': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/console/console.js': { file: 'console.js', type: 'text/javascript; charset=utf-8' },
  '/console/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
} as const;

type Tree = { [key: string]: string | string[] | Tree };
const treeSchema: z.ZodType<Tree> = z.lazy(() =>
  z.record(z.string(), z.union([z.string(), z.array(z.string()), treeSchema])),
);

/** The subtrees of a locale file the console page shows: its own strings and the data layer's labels. */
const PAGE_KEYS = ['console', 'departments', 'categories', 'case_status'] as const;

/** What the console page needs from one locale file (`console` plus department, category and status labels). */
export function consoleStrings(lang: Lang): Tree {
  const parsed = treeSchema.parse(JSON.parse(readFileSync(join(LOCALES_DIR, `${lang}.json`), 'utf8')));
  const out: Tree = {};
  for (const key of PAGE_KEYS) {
    const node = parsed[key];
    if (node !== undefined) out[key] = node;
  }
  return out;
}

/**
 * Serves the console page (vanilla HTML/CSS/JS, no build step) and its strings per language. Files are
 * read once at start-up; the page loads only same-origin scripts and styles, as the CSP demands.
 */
export function consolePage(app: FastifyInstance, langs: readonly Lang[]): void {
  for (const [url, { file, type }] of Object.entries(FILES)) {
    const body = readFileSync(join(PUBLIC_DIR, file));
    app.get(url, { schema: { hide: true } }, async (_req, reply) =>
      reply.header('content-type', type).header('cache-control', 'no-cache').send(body),
    );
  }
  const strings = new Map<string, string>(langs.map((lang) => [lang, JSON.stringify(consoleStrings(lang))]));
  app.get<{ Params: { lang: string } }>(
    '/console/i18n/:lang',
    { schema: { hide: true } },
    async (req, reply) => {
      const found = strings.get(req.params.lang);
      if (found === undefined)
        return reply.code(404).send({ code: 'NOT_FOUND', message: 'No such language.' });
      return reply.header('content-type', 'application/json; charset=utf-8').send(found);
    },
  );
}
