/**
 * A long-running Python process answering one JSON line per JSON line sent, in order: how the
 * differential tests ask Swift's, keystonemiddleware's or oslo.policy's own code. An answer with
 * an `oracle_error` key (or the process dying) rejects the question.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

export class PythonOracle {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly waiting: ((line: string) => void)[] = [];
  private stderr = '';
  private dead: string | undefined;

  constructor(python: string, script: string) {
    this.proc = spawn(python, [script], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONIOENCODING: 'utf-8' } });
    this.proc.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    createInterface({ input: this.proc.stdout }).on('line', (line) => this.waiting.shift()?.(line));
    const fail = (why: string) => {
      this.dead = `oracle ${why}: ${this.stderr}`;
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ oracle_error: this.dead }));
    };
    this.proc.on('error', (err) => fail(`failed: ${err.message}`));
    this.proc.on('exit', (code) => fail(`exited (${code})`));
    // A write after the oracle died: its exit is what gets reported.
    this.proc.stdin.on('error', () => {});
  }

  ask<Answer>(question: unknown): Promise<Answer> {
    return new Promise((resolve, reject) => {
      if (this.dead) return reject(new Error(this.dead));
      this.waiting.push((line) => {
        const out = JSON.parse(line) as Answer & { oracle_error?: string };
        if (out.oracle_error) reject(new Error(`the oracle failed on ${JSON.stringify(question)}: ${out.oracle_error}`));
        else resolve(out);
      });
      this.proc.stdin.write(`${JSON.stringify(question)}\n`);
    });
  }

  close(): void {
    this.proc.stdin.end();
  }
}
