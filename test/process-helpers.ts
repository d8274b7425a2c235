// Real child processes for the several-processes tests: fixtures spawned with
// their stdout read line by line, and killed after the file's tests.
import { type ChildProcess, spawn } from 'node:child_process'
import * as path from 'node:path'
import { afterAll } from 'vitest'

export const FIX = path.join(__dirname, 'fixtures')
const started: ChildProcess[] = []
afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
})

/** A spawned node script (a fixture name, or any path with args) whose stdout lines go to `onLine`. */
export function run(file: string, args: string[], onLine: (line: string) => void = () => {}, stdin: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
  const script = path.isAbsolute(file) ? file : path.join(FIX, file)
  const child = spawn(process.execPath, [script, ...args], { stdio: [stdin, 'pipe', 'inherit'] })
  started.push(child)
  let buf = ''
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString()
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      onLine(buf.slice(0, nl))
      buf = buf.slice(nl + 1)
    }
  })
  return child
}

export const exited = (c: ChildProcess) =>
  new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())))

export async function until(what: string, ok: () => boolean, ms = 15000): Promise<void> {
  for (const t0 = Date.now(); !ok(); ) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}
