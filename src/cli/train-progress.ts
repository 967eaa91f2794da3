import type { Writable } from 'node:stream';
import type { TrainProgress } from '../train/progress.js';

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function num(v: number): string {
  return Number.isFinite(v) ? Number(v.toPrecision(4)).toString() : String(v);
}

/**
 * Draws `train()` progress on stderr: on a TTY one redrawn line with a bar (run, epoch, losses, best
 * epoch, time left); elsewhere (logs, CI) a plain line per finished run and at most one epoch line
 * every `everySeconds`.
 */
export function progressPrinter(out: Writable & { isTTY?: boolean; columns?: number }, everySeconds = 10): (e: TrainProgress) => void {
  const tty = out.isTTY === true;
  let lastLine = 0;
  let drawn = false;
  const clear = (): void => {
    if (tty && drawn) out.write('\r\x1b[2K');
    drawn = false;
  };
  return (e) => {
    switch (e.type) {
      case 'start':
        out.write(`training on ${e.rows} rows (${e.series} series, ${e.columns.join(', ')}); season ${e.period ?? 'none detected'}; up to ${e.runs} runs, budget ${e.timeBudget} s\n`);
        break;
      case 'stage':
        break;
      case 'epoch': {
        const mae = e.valMae.map(num).join('/');
        if (tty) {
          const width = 20;
          const done = Math.round((width * (e.run + e.epoch / e.maxEpochs)) / e.runs);
          const bar = `${'█'.repeat(Math.min(width, done))}${'░'.repeat(Math.max(0, width - done))}`;
          const line = `${bar} run ${e.run + 1}/${e.runs} ${e.label} | epoch ${e.epoch} | train ${num(e.trainLoss)} val ${num(e.valLoss)} MAE ${mae} | best ${e.bestEpoch} | ${clock(e.elapsed)}, ~${clock(e.remaining)} left`;
          out.write(`\r\x1b[2K${line.slice(0, Math.max(40, (out.columns || 120) - 1))}`);
          drawn = true;
        } else if (e.elapsed - lastLine >= everySeconds) {
          lastLine = e.elapsed;
          out.write(`  run ${e.run + 1}/${e.runs} ${e.label}: epoch ${e.epoch}, train loss ${num(e.trainLoss)}, val loss ${num(e.valLoss)}, val MAE ${mae}, best epoch ${e.bestEpoch} (${clock(e.elapsed)} elapsed, ~${clock(e.remaining)} left)\n`);
        }
        break;
      }
      case 'run':
        clear();
        out.write(`run ${e.run + 1}/${e.runs} ${e.label}: best epoch ${e.bestEpoch} of ${e.epochs}, val MAE ${e.valMae.map(num).join('/')} (${num(e.valScore)} x persistence), ${e.seconds.toFixed(1)} s\n`);
        break;
      case 'done':
        clear();
        break;
    }
  };
}
