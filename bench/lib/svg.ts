/**
 * A tiny dependency-free SVG chart writer for the benches: line charts (linear or log-10 x axis) and bar
 * charts, with axes, ticks, labels and a legend.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Point {
  x: number;
  y: number;
}

export interface Series {
  name: string;
  points: Point[];
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  yMin?: number;
  yMax?: number;
  width?: number;
  height?: number;
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  /** One group per category; one bar per series within it. */
  categories: string[];
  series: { name: string; values: number[] }[];
  yMin?: number;
  yMax?: number;
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf', '#7f7f7f'];
const M = { left: 70, right: 20, top: 40, bottom: 55 };

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  if (a >= 1000) return String(Math.round(v));
  return String(Math.round(v * 1000) / 1000);
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    out.push(Math.round(v / step) * step);
  return out;
}

function frame(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function axes(width: number, height: number, xLabel: string, yLabel: string): string[] {
  const x0 = M.left;
  const y0 = height - M.bottom;
  return [
    `<line x1="${x0}" y1="${y0}" x2="${width - M.right}" y2="${y0}" stroke="black"/>`,
    `<line x1="${x0}" y1="${M.top}" x2="${x0}" y2="${y0}" stroke="black"/>`,
    `<text x="${(x0 + width - M.right) / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text x="16" y="${(M.top + y0) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(M.top + y0) / 2})">${escapeXml(yLabel)}</text>`,
  ];
}

function legend(width: number, names: { name: string; color: string; dashed?: boolean }[]): string[] {
  const out: string[] = [];
  names.forEach((n, i) => {
    const y = M.top + 8 + i * 16;
    const x = width - M.right - 220;
    out.push(
      `<line x1="${x}" y1="${y}" x2="${x + 20}" y2="${y}" stroke="${n.color}" stroke-width="3"${n.dashed ? ' stroke-dasharray="5,3"' : ''}/>`,
    );
    out.push(`<text x="${x + 26}" y="${y + 4}">${escapeXml(n.name)}</text>`);
  });
  return out;
}

export function lineChart(o: LineChartOptions): string {
  const width = o.width ?? 640;
  const height = o.height ?? 400;
  const all = o.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const tx = (x: number) => (o.logX ? Math.log10(x) : x);
  let xLo = Math.min(...all.map((p) => tx(p.x)));
  let xHi = Math.max(...all.map((p) => tx(p.x)));
  if (!(xHi > xLo)) [xLo, xHi] = [xLo - 1, xLo + 1];
  let yLo = o.yMin ?? Math.min(0, ...all.map((p) => p.y));
  let yHi = o.yMax ?? Math.max(...all.map((p) => p.y));
  if (!(yHi > yLo)) [yLo, yHi] = [yLo - 1, yLo + 1];
  const px = (x: number) => M.left + ((tx(x) - xLo) / (xHi - xLo)) * (width - M.left - M.right);
  const py = (y: number) => height - M.bottom - ((y - yLo) / (yHi - yLo)) * (height - M.top - M.bottom);
  const body = axes(width, height, o.xLabel, o.yLabel);
  const xTicks = o.logX
    ? Array.from({ length: Math.floor(xHi) - Math.ceil(xLo) + 1 }, (_, i) => 10 ** (Math.ceil(xLo) + i))
    : niceTicks(xLo, xHi);
  for (const t of xTicks) {
    const x = px(t);
    body.push(
      `<line x1="${x}" y1="${height - M.bottom}" x2="${x}" y2="${height - M.bottom + 5}" stroke="black"/>`,
    );
    body.push(`<text x="${x}" y="${height - M.bottom + 18}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(yLo, yHi)) {
    const y = py(t);
    body.push(`<line x1="${M.left - 5}" y1="${y}" x2="${width - M.right}" y2="${y}" stroke="#ddd"/>`);
    body.push(`<text x="${M.left - 8}" y="${y + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  o.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    if (pts.length === 0) return;
    const d = pts.map((p, k) => `${k ? 'L' : 'M'}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ');
    body.push(
      `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>`,
    );
    if (!s.dashed)
      for (const p of pts)
        body.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${color}"/>`);
  });
  body.push(
    ...legend(
      width,
      o.series.map((s, i) => ({ name: s.name, color: COLORS[i % COLORS.length], dashed: s.dashed })),
    ),
  );
  return frame(width, height, o.title, body);
}

export function barChart(o: BarChartOptions): string {
  const width = o.width ?? 640;
  const height = o.height ?? 400;
  const values = o.series.flatMap((s) => s.values).filter(Number.isFinite);
  const yLo = o.yMin ?? Math.min(0, ...values);
  let yHi = o.yMax ?? Math.max(...values);
  if (!(yHi > yLo)) yHi = yLo + 1;
  const py = (y: number) => height - M.bottom - ((y - yLo) / (yHi - yLo)) * (height - M.top - M.bottom);
  const body = axes(width, height, '', o.yLabel);
  for (const t of niceTicks(yLo, yHi)) {
    const y = py(t);
    body.push(`<line x1="${M.left - 5}" y1="${y}" x2="${width - M.right}" y2="${y}" stroke="#ddd"/>`);
    body.push(`<text x="${M.left - 8}" y="${y + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  const groupW = (width - M.left - M.right) / Math.max(1, o.categories.length);
  const barW = (groupW * 0.8) / Math.max(1, o.series.length);
  o.categories.forEach((c, ci) => {
    const gx = M.left + ci * groupW + groupW * 0.1;
    o.series.forEach((s, si) => {
      const v = s.values[ci];
      if (!Number.isFinite(v)) return;
      const y = py(Math.max(v, yLo));
      body.push(
        `<rect x="${(gx + si * barW).toFixed(1)}" y="${y.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(py(yLo) - y).toFixed(1)}" fill="${COLORS[si % COLORS.length]}"/>`,
      );
    });
    body.push(
      `<text x="${gx + groupW * 0.4}" y="${height - M.bottom + 18}" text-anchor="middle">${escapeXml(c)}</text>`,
    );
  });
  body.push(
    ...legend(
      width,
      o.series.map((s, i) => ({ name: s.name, color: COLORS[i % COLORS.length] })),
    ),
  );
  return frame(width, height, o.title, body);
}

/** Writes an SVG file, creating its directory. */
export function writeSvg(file: string, svg: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, svg);
}
