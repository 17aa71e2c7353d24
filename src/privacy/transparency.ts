import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Db } from '../db/connection.js';
import type { Translator } from '../i18n/index.js';
import { isLang, LANGS, type Lang } from '../nlu/catalog.js';
import {
  computePublicStats,
  SUPPRESSED,
  type PeriodStats,
  type PublicFigure,
  type PublicStats,
} from './stats.js';

/** What {@link transparencyRoutes} needs. */
export interface TransparencyDeps {
  db: Pick<Db, 'Case'>;
  i18n: Translator;
  clock?: () => Date;
}

const RTL: ReadonlySet<Lang> = new Set(['ar']);

/**
 * The visitor's language: `?lang=` when it names one of ours, else the first of ours in
 * Accept-Language by quality, else English.
 */
export function pickLang(query: string | undefined, acceptLanguage: string | undefined): Lang {
  if (isLang(query)) return query;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { lang: tag.trim().slice(0, 2).toLowerCase(), q: q === undefined ? 1 : Number(q), i };
    })
    .filter((x) => x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  return ranked.map((x) => x.lang).find(isLang) ?? 'en';
}

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A figure as shown: "<5" for suppressed, an em dash for no data, else the number in the language. */
function shown(value: PublicFigure, lang: Lang, digits = 1): string {
  if (value === null) return '—';
  if (value === SUPPRESSED) return SUPPRESSED;
  return new Intl.NumberFormat(lang, { maximumFractionDigits: digits, numberingSystem: 'latn' }).format(
    value,
  );
}

function monthLabel(month: string, lang: Lang): string {
  const [y, m] = month.split('-').map(Number);
  return new Intl.DateTimeFormat(lang, {
    month: 'short',
    year: 'numeric',
    timeZone: 'UTC',
    numberingSystem: 'latn',
  }).format(new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, 1)));
}

interface Bar {
  label: string;
  value: PublicFigure;
}

/**
 * A bar chart as inline SVG (no script): one bar per point, its value written above it; a suppressed
 * value is drawn as a short hatched bar labelled "<5", a missing one as nothing.
 */
function barChart(id: string, title: string, bars: Bar[], lang: Lang, max?: number): string {
  const width = 640;
  const height = 220;
  const top = 24;
  const bottom = 40;
  const plot = height - top - bottom;
  const numbers = bars.flatMap((b) => (typeof b.value === 'number' ? [b.value] : []));
  const scale = max ?? Math.max(1, ...numbers);
  const slot = width / Math.max(1, bars.length);
  const barWidth = Math.max(4, slot * 0.6);
  const parts = bars.map((b, i) => {
    const x = i * slot + (slot - barWidth) / 2;
    const cx = i * slot + slot / 2;
    const label = `<text x="${cx}" y="${height - bottom + 16}" text-anchor="middle" class="axis">${escape(b.label)}</text>`;
    if (b.value === null) return label;
    const h = b.value === SUPPRESSED ? 6 : (b.value / scale) * plot;
    const y = top + plot - h;
    const fill = b.value === SUPPRESSED ? 'url(#hatch)' : '#1f5fa8';
    return (
      `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}" fill="${fill}"/>` +
      `<text x="${cx}" y="${(y - 6).toFixed(1)}" text-anchor="middle" class="value">${escape(shown(b.value, lang))}</text>` +
      label
    );
  });
  return (
    `<svg role="img" aria-labelledby="${id}" viewBox="0 0 ${width} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg" direction="ltr">` +
    `<title id="${id}">${escape(title)}</title>` +
    '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="3" height="6" fill="#8a9bb0"/></pattern></defs>' +
    `<line x1="0" y1="${top + plot}" x2="${width}" y2="${top + plot}" stroke="#888"/>` +
    parts.join('') +
    '</svg>'
  );
}

function breakdownTable(
  caption: string,
  counts: Record<string, PeriodStats['cases']>,
  label: (key: string) => string,
  lang: Lang,
): string {
  const rows = Object.entries(counts)
    .map(
      ([key, n]) =>
        `<tr><th scope="row">${escape(label(key))}</th><td>${escape(shown(n, lang, 0))}</td></tr>`,
    )
    .join('');
  return `<table><caption>${escape(caption)}</caption><tbody>${rows}</tbody></table>`;
}

/**
 * The public transparency page, server-rendered in `lang` (right to left for Arabic), with its
 * charts as inline SVG: readable without JavaScript, with no personal data (only the counts and
 * figures of {@link PublicStats}).
 */
export function renderTransparencyPage(stats: PublicStats, lang: Lang, i18n: Translator): string {
  const t = (key: string, vars?: Record<string, string | number>): string =>
    i18n.t(`transparency.${key}`, lang, vars);
  const labelOf =
    (group: string) =>
    (key: string): string => {
      const found = i18n.t(`${group}.${key}`, lang);
      return found === `${group}.${key}` ? key : found;
    };
  const months = stats.months.map((m) => ({ ...m, label: monthLabel(m.month, lang) }));
  const chart = (id: string, key: string, pick: (m: PeriodStats) => PublicFigure, max?: number): string =>
    `<figure>${barChart(
      id,
      t(`chart.${key}`),
      months.map((m) => ({ label: m.label, value: pick(m) })),
      lang,
      max,
    )}<figcaption>${escape(t(`chart.${key}`))}</figcaption></figure>`;
  const header = ['month', 'cases', 'first_answer', 'resolution', 'within_sla', 'satisfaction']
    .map((k) => `<th scope="col">${escape(t(`column.${k}`))}</th>`)
    .join('');
  const row = (label: string, p: PeriodStats): string =>
    `<tr><th scope="row">${escape(label)}</th>` +
    [
      shown(p.cases, lang, 0),
      shown(p.medianHoursToFirstAnswer, lang),
      shown(p.medianHoursToResolution, lang),
      p.resolvedWithinSlaPercent === null || p.resolvedWithinSlaPercent === SUPPRESSED
        ? shown(p.resolvedWithinSlaPercent, lang)
        : `${shown(p.resolvedWithinSlaPercent, lang, 0)}%`,
      shown(p.averageSatisfaction, lang),
    ]
      .map((v) => `<td>${escape(v)}</td>`)
      .join('') +
    '</tr>';
  const languages = LANGS.map((l) =>
    l === lang
      ? `<strong>${escape(i18n.t(`language.self_name_${l}`, l))}</strong>`
      : `<a href="?lang=${l}" hreflang="${l}" lang="${l}">${escape(i18n.t(`language.self_name_${l}`, l))}</a>`,
  ).join(' · ');
  const period = t('period', { from: monthLabel(stats.from, lang), to: monthLabel(stats.to, lang) });
  return `<!doctype html>
<html lang="${lang}" dir="${RTL.has(lang) ? 'rtl' : 'ltr'}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(t('title'))}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:56rem;margin:0 auto;padding:1rem;color:#1b1b1b;line-height:1.5}
figure{margin:1.5rem 0}figcaption{font-weight:600}
table{border-collapse:collapse;margin:1rem 0;width:100%}th,td{border-bottom:1px solid #ccc;padding:.3rem .5rem;text-align:start}
td{font-variant-numeric:tabular-nums}caption{text-align:start;font-weight:600;padding:.3rem 0}
svg .axis{font-size:11px;fill:#333}svg .value{font-size:11px;fill:#1b1b1b}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem}
nav{font-size:.9rem;margin-bottom:1rem}
h1,p{overflow-wrap:anywhere}.scroll{overflow-x:auto;max-width:100%}
</style>
</head>
<body>
<nav aria-label="${escape(t('languages'))}">${languages}</nav>
<main>
<h1>${escape(t('title'))}</h1>
<p>${escape(t('intro'))}</p>
<p>${escape(period)}</p>
${chart('chart-cases', 'cases', (m) => m.cases)}
${chart('chart-sla', 'within_sla', (m) => m.resolvedWithinSlaPercent, 100)}
${chart('chart-resolution', 'resolution', (m) => m.medianHoursToResolution)}
${chart('chart-satisfaction', 'satisfaction', (m) => m.averageSatisfaction, 5)}
<div class="scroll">
<table>
<caption>${escape(t('per_month'))}</caption>
<thead><tr>${header}</tr></thead>
<tbody>${months.map((m) => row(m.label, m)).join('')}${row(t('total'), stats.total)}</tbody>
</table>
</div>
<div class="grid">
${breakdownTable(t('by_category'), stats.total.byCategory, labelOf('categories'), lang)}
${breakdownTable(t('by_department'), stats.total.byDepartment, labelOf('departments'), lang)}
${breakdownTable(t('by_status'), stats.total.byStatus, labelOf('case_status'), lang)}
</div>
<p>${escape(t('suppressed', { threshold: stats.suppressionThreshold }))}</p>
<p><a href="/api/v1/stats?months=${stats.months.length}">${escape(t('json'))}</a></p>
</main>
</body>
</html>
`;
}

const statsQuery = z.object({
  months: z.coerce.number().int().min(1).max(60).default(12),
  lang: z.string().optional(),
});

/**
 * Mounts the public, login-free `GET /transparency` (HTML) and `GET /api/v1/stats` (JSON) on `app`.
 * Both are computed per request from an aggregation over the cases (bounded to `?months=`, 1–60,
 * default 12) and may be cached by proxies for five minutes.
 *
 * @example
 * await transparencyRoutes(http, { db, i18n });
 */
export async function transparencyRoutes(app: FastifyInstance, deps: TransparencyDeps): Promise<void> {
  await app.register(async (scope) => {
    const clock = deps.clock ?? (() => new Date());
    const query = (req: FastifyRequest) => {
      const parsed = statsQuery.safeParse(req.query);
      return parsed.success ? parsed.data : { months: 12, lang: undefined };
    };

    scope.get('/api/v1/stats', async (req, reply) => {
      const stats = await computePublicStats(deps.db, { months: query(req).months, now: clock() });
      return reply
        .header('cache-control', 'public, max-age=300')
        .header('access-control-allow-origin', '*')
        .send(stats);
    });

    scope.get('/transparency', async (req, reply) => {
      const q = query(req);
      const lang = pickLang(q.lang, req.headers['accept-language']);
      const stats = await computePublicStats(deps.db, { months: q.months, now: clock() });
      return reply
        .type('text/html; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .header('vary', 'accept-language')
        .header('content-language', lang)
        .header(
          'content-security-policy',
          "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        )
        .header('x-content-type-options', 'nosniff')
        .send(renderTransparencyPage(stats, lang, deps.i18n));
    });
  });
}
