import { availableParallelism } from 'node:os'
import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real-browser tests (headless Chromium) are heavy: npm run test:full
    // runs them with CAUSEWAY_BROWSER=1; npm test leaves them out.
    // The canary (an addon rebuilt with a planted bug, 2-4 minutes here) runs
    // in npm run test:full and npm run test:reliability (CAUSEWAY_CANARY=1).
    exclude: [
      ...configDefaults.exclude,
      ...(process.env.CAUSEWAY_BROWSER ? [] : ['test/**/*.browser.test.ts']),
      ...(process.env.CAUSEWAY_CANARY ? [] : ['test/reliability/canary.test.ts']),
    ],
    pool: 'forks',
    // Two files at a time even on 2 cores (Vitest's default there is one): most
    // files wait on child processes, fsync, qemu or Wine as much as they compute.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 120_000,
    hookTimeout: 120_000,
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './test/tsconfig.json' },
  },
})
