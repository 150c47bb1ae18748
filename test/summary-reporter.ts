import type { Reporter } from 'vitest/node';

type Task = { type: string; mode?: string; result?: { state?: string }; tasks?: Task[] };

/**
 * Prints one plain closing line, `tests: N passed, N failed, N skipped`, after vitest's own
 * summary, so tools reading the output (CI) can count without knowing vitest's format.
 */
export default class SummaryReporter implements Reporter {
  onFinished(files: Task[] = [], errors: unknown[] = []): void {
    const count = { passed: 0, failed: 0, skipped: 0 };
    const walk = (task: Task): void => {
      if (task.type === 'test') {
        const state = task.result?.state;
        if (state === 'pass') count.passed += 1;
        else if (state === 'fail') count.failed += 1;
        else count.skipped += 1;
      }
      task.tasks?.forEach(walk);
    };
    for (const file of files) {
      walk(file);
      // A file that failed to load has no tests, but it is a failure.
      if (file.result?.state === 'fail' && !(file.tasks ?? []).some((t) => t.result?.state === 'fail')) count.failed += 1;
    }
    count.failed += errors.length;
    setImmediate(() => process.stdout.write(`\ntests: ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped\n`));
  }
}
