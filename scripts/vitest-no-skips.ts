/**
 * A Vitest reporter: under CI=true, a skipped or todo test fails the run. The suite's
 * dependencies (LXD, lxc, the system tools) are required, not optional, so a test that skips
 * in CI would turn the run green without having tested anything (README: nothing skips).
 */
import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export default class NoSkipsInCi implements Reporter {
  onTestRunEnd(testModules: readonly TestModule[]): void {
    if (process.env.CI !== 'true') return;
    const skipped = testModules.flatMap((module) =>
      [...module.children.allTests()]
        .filter((test) => test.result().state === 'skipped')
        .map((test) => `  ${relative(process.cwd(), module.moduleId)} > ${test.fullName}`),
    );
    if (skipped.length === 0) return;
    console.error(
      `\nCI=true: ${skipped.length} test(s) skipped; in CI every test runs (install what it needs):\n${skipped.join('\n')}\n`,
    );
    process.exitCode = 1;
  }
}
