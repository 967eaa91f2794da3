// `npm start`: `gru-stream serve` with PORT and HOST taken from the environment, as hosting
// platforms set them. Flags after `npm start --` come later on the command line, so they win
// (`npm start -- --port 0` picks a free port whatever PORT says).
import { main } from '../dist/src/cli/main.js';

const fromEnv = [];
if (process.env.PORT) fromEnv.push('--port', process.env.PORT);
if (process.env.HOST) fromEnv.push('--host', process.env.HOST);
process.exitCode = await main(['serve', ...fromEnv, ...process.argv.slice(2)], { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
