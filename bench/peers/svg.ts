import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface BarSeries {
  name: string;
  color: string;
  /** One value per category (NaN: no bar). */
  values: number[];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A grouped bar chart as a standalone SVG (no dependencies): categories on x, one bar per series. */
export function groupedBarSvg(
  title: string,
  yLabel: string,
  categories: string[],
  series: BarSeries[],
): string {
  const w = 720;
  const h = 360;
  const m = { l: 60, r: 20, t: 40, b: 60 };
  const pw = w - m.l - m.r;
  const ph = h - m.t - m.b;
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values.filter((v) => Number.isFinite(v))));
  const step = 10 ** Math.floor(Math.log10(max));
  const top = Math.ceil(max / step) * step;
  const y = (v: number): number => m.t + ph - (v / top) * ph;
  const gw = pw / categories.length;
  const bw = (gw * 0.8) / series.length;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${w / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    `<text transform="translate(16,${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (top * i) / 5;
    out.push(`<line x1="${m.l}" x2="${w - m.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${m.l - 6}" y="${y(v) + 4}" text-anchor="end">${Number(v.toPrecision(3))}</text>`);
  }
  categories.forEach((c, ci) => {
    const x0 = m.l + ci * gw + gw * 0.1;
    series.forEach((s, si) => {
      const v = s.values[ci];
      if (!Number.isFinite(v)) return;
      out.push(
        `<rect x="${x0 + si * bw}" y="${y(v)}" width="${bw - 2}" height="${m.t + ph - y(v)}" fill="${s.color}"><title>${esc(`${s.name} ${c}: ${v.toFixed(2)}`)}</title></rect>`,
      );
    });
    out.push(
      `<text x="${m.l + ci * gw + gw / 2}" y="${m.t + ph + 16}" text-anchor="middle">${esc(c)}</text>`,
    );
  });
  series.forEach((s, si) => {
    const lx = m.l + si * 160;
    out.push(`<rect x="${lx}" y="${h - 24}" width="12" height="12" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 16}" y="${h - 14}">${esc(s.name)}</text>`);
  });
  out.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${m.t + ph}" stroke="black"/>`);
  out.push(`<line x1="${m.l}" x2="${w - m.r}" y1="${m.t + ph}" y2="${m.t + ph}" stroke="black"/>`);
  out.push('</svg>', '');
  return out.join('\n');
}

export function writeSvgFile(file: string, svg: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, svg);
}
