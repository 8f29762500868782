import type { Reporter, TestCase, TestModule } from 'vitest/node';

/**
 * Ends the run with why each skipped test skipped and how to run it, then the plain line
 * `N passed, N failed, N skipped`, which any CI reads, whatever it knows of vitest's own summary.
 * A reason is the test's skip note (`test.skip(condition, note)`), else the name of the skipped
 * suite, which then says it (`describe.skip('... (PostgreSQL 15 binaries missing: ...)')`).
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts = { passed: 0, failed: 0, skipped: 0 };
    const reasons = new Map<string, string[]>();
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') counts.passed++;
        else if (result.state === 'failed') counts.failed++;
        else {
          counts.skipped++;
          const reason = skipReason(test, result.state === 'skipped' ? result.note : undefined);
          reasons.set(reason, [...(reasons.get(reason) ?? []), module.moduleId.replace(`${process.cwd()}/`, '')]);
        }
      }
      // A file that failed to load has no tests to count, so it counts as one failure.
      if (module.state() === 'failed' && ![...module.children.allTests()].some((t) => t.result().state === 'failed')) {
        counts.failed++;
      }
    }
    if (reasons.size) {
      process.stdout.write('\nSkipped, and how to run them:\n');
      for (const [reason, files] of reasons) {
        const where = [...new Set(files)].join(', ');
        process.stdout.write(`  ${files.length} in ${where}: ${reason}\n`);
      }
    }
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}

function skipReason(test: TestCase, note: string | undefined): string {
  if (note) return note;
  for (let parent = test.parent; ; parent = parent.parent) {
    // A failed beforeAll leaves its tests unrun, which vitest counts as skipped: not a skip at all.
    if (parent.state() === 'failed') return `not run: ${parent.type === 'suite' ? `"${parent.name}"` : 'the file'} failed to set up (its error is above)`;
    if (parent.type !== 'suite') break;
    if (/\(.+\)/.test(parent.name)) return parent.name;
  }
  return `${test.fullName} (no reason given: filtered out by -t, or a skip without a note)`;
}
