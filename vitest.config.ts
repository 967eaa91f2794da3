import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Workers run dist/: rebuild it first when it is older than src/ (test/helpers/build-workers.ts).
    globalSetup: ['test/helpers/build-workers.ts'],
    // Worker-thread and socket tests are real; give them room on a shared 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
