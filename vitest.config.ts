import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    typecheck: { include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    // The task fixtures are TypeScript: run the test processes under tsx, as
    // an application would be, so pool workers can load them too.
    execArgv: ['--import', 'tsx'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
