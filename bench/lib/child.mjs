import { spawn } from 'node:child_process';

/**
 * Run a Node script in its own process and collect the JSON lines it prints. Every measurement
 * runs in a fresh process: no peer's threads, JIT state or heap leak into another's numbers.
 * Resolves (never rejects) with { code, lines, stderr } so one failed run does not stop the rest.
 */
export function runNode(args, { cwd, env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('close', (code) => {
      const lines = [];
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          lines.push(JSON.parse(line));
        } catch {
          // not one of ours; ignore
        }
      }
      resolve({ code, lines, stderr: err.trim() });
    });
  });
}
