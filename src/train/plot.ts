import type { TrainReport } from './report.js';

/**
 * `--plot FILE.svg`: a self-contained SVG a person can open in any browser. Top: training and
 * validation loss per epoch of every member of the shipped model (log scale, best epochs marked).
 * Bottom: the validation rows of the first series, actual against the shipped model's forecast and
 * persistence. Hand-written: two line charts do not need a charting library.
 */

const W = 960;
const PANEL_H = 300;
const M = { left: 70, right: 20, top: 40, bottom: 40 };
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

interface Axis {
  lo: number;
  hi: number;
  toPx: (v: number) => number;
  ticks: number[];
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(1) : Number(v.toPrecision(3)).toString();
}

function niceTicks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function linearAxis(values: number[], px0: number, px1: number): Axis {
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.05;
  [lo, hi] = [lo - pad, hi + pad];
  return { lo, hi, toPx: (v) => px0 + ((v - lo) / (hi - lo)) * (px1 - px0), ticks: niceTicks(lo, hi) };
}

function logAxis(values: number[], px0: number, px1: number): Axis {
  const pos = values.filter((v) => v > 0 && Number.isFinite(v));
  const lo = Math.floor(Math.log10(Math.min(...pos, 1)));
  let hi = Math.ceil(Math.log10(Math.max(...pos, 1e-9)));
  if (hi <= lo) hi = lo + 1;
  const ticks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
  return { lo, hi, toPx: (v) => px0 + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (px1 - px0), ticks };
}

function polyline(xs: number[], ys: number[], x: Axis, y: Axis, color: string, extra = ''): string {
  const pts = xs.map((v, i) => `${x.toPx(v).toFixed(1)},${y.toPx(ys[i]).toFixed(1)}`).join(' ');
  return `<polyline fill="none" stroke="${color}" stroke-width="1.5" ${extra} points="${pts}"/>`;
}

function frame(top: number, x: Axis, y: Axis, title: string, xLabel: string, yLabel: string): string {
  const bottom = top + PANEL_H - M.bottom;
  const parts = [`<text x="${M.left}" y="${top + 22}" font-size="15" font-weight="bold">${esc(title)}</text>`];
  parts.push(`<rect x="${M.left}" y="${top + M.top}" width="${W - M.left - M.right}" height="${PANEL_H - M.top - M.bottom}" fill="none" stroke="#999"/>`);
  for (const t of x.ticks) {
    const px = x.toPx(t);
    parts.push(`<line x1="${px.toFixed(1)}" y1="${bottom}" x2="${px.toFixed(1)}" y2="${bottom + 5}" stroke="#999"/><text x="${px.toFixed(1)}" y="${bottom + 18}" font-size="11" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of y.ticks) {
    const py = y.toPx(t);
    parts.push(`<line x1="${M.left}" y1="${py.toFixed(1)}" x2="${W - M.right}" y2="${py.toFixed(1)}" stroke="#eee"/><text x="${M.left - 6}" y="${(py + 4).toFixed(1)}" font-size="11" text-anchor="end">${fmt(t)}</text>`);
  }
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${bottom + 34}" font-size="12" text-anchor="middle">${esc(xLabel)}</text>`);
  parts.push(`<text transform="translate(16,${top + PANEL_H / 2}) rotate(-90)" font-size="12" text-anchor="middle">${esc(yLabel)}</text>`);
  return parts.join('\n');
}

function legend(top: number, items: Array<[string, string, string?]>): string {
  return items
    .map(([name, color, dash], i) => {
      const x = W - M.right - 230;
      const y = top + M.top + 14 + i * 16;
      return `<line x1="${x}" y1="${y - 4}" x2="${x + 22}" y2="${y - 4}" stroke="${color}" stroke-width="2" ${dash ? `stroke-dasharray="${dash}"` : ''}/><text x="${x + 28}" y="${y}" font-size="11">${esc(name)}</text>`;
    })
    .join('\n');
}

export function plotSvg(report: TrainReport): string {
  const members = report.runs.filter((r) => r.transform === report.chosen.transform && r.hidden === report.chosen.memberHidden);
  const lossValues = members.flatMap((r) => r.history.flatMap((h) => [h.trainLoss, h.valLoss]));
  const maxEpoch = Math.max(...members.map((r) => r.history.length), 1);
  const x1 = linearAxis([1, maxEpoch], M.left, W - M.right);
  x1.ticks = niceTicks(1, maxEpoch).filter((t) => t >= 1);
  const y1 = logAxis(lossValues, PANEL_H - M.bottom, M.top);
  const loss: string[] = [frame(0, x1, y1, `Loss per epoch: ${members.length} member(s), ${report.chosen.transform}, H ${report.chosen.memberHidden}`, 'epoch', 'MSE (normalised)')];
  members.forEach((r, i) => {
    const color = COLORS[i % COLORS.length];
    const epochs = r.history.map((h) => h.epoch);
    loss.push(polyline(epochs, r.history.map((h) => h.trainLoss), x1, y1, color, 'stroke-dasharray="5,3" opacity="0.8"'));
    loss.push(polyline(epochs, r.history.map((h) => h.valLoss), x1, y1, color));
    const best = r.history[r.bestEpoch - 1];
    if (best) loss.push(`<circle cx="${x1.toPx(best.epoch).toFixed(1)}" cy="${y1.toPx(best.valLoss).toFixed(1)}" r="4" fill="${color}"/>`);
  });
  loss.push(legend(0, [['training loss', '#555', '5,3'], ['validation loss', '#555'], ['● best epoch (kept)', '#fff']]));

  const top = PANEL_H;
  const v = report.validation[0];
  const rows = Array.from({ length: v.actual.length - 1 }, (_, i) => v.firstRow + 2 + i);
  const actual = v.actual.slice(1).map((a) => a[0]);
  const persistence = v.actual.slice(0, -1).map((a) => a[0]);
  const forecast = v.forecast.map((f) => f[0]);
  const fRows = rows.slice(rows.length - forecast.length);
  const x2 = linearAxis(rows, M.left, W - M.right);
  const y2 = linearAxis([...actual, ...forecast], top + PANEL_H - M.bottom, top + M.top);
  const mae = report.chosen.valMae[0];
  const fc: string[] = [frame(top, x2, y2, `Validation, series "${v.series}", ${report.columns[0]}: MAE ${fmt(mae)} (persistence ${fmt(report.baselines.persistence[0])})`, 'row (1-based)', report.columns[0])];
  fc.push(polyline(rows, persistence, x2, y2, '#bbb', 'stroke-dasharray="2,2"'));
  fc.push(polyline(rows, actual, x2, y2, '#222'));
  fc.push(polyline(fRows, forecast, x2, y2, COLORS[0]));
  fc.push(legend(top, [['actual', '#222'], ['forecast (one step ahead)', COLORS[0]], ['persistence', '#bbb', '2,2']]));

  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${2 * PANEL_H}" viewBox="0 0 ${W} ${2 * PANEL_H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
${loss.join('\n')}
${fc.join('\n')}
</svg>
`;
}
