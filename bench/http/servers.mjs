// Starts a bench server (causeway-server.mjs or baseline-server.mjs) in a
// child process and waits (bounded) for its URLs; stop() asks it to close.
import { fork } from 'node:child_process'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))

export async function startServer(file, config, { cpuProfDir } = {}) {
  const execArgv = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []
  const child = fork(path.join(here, file), [], { execArgv, env: { ...process.env, BENCH_SERVER_CONFIG: JSON.stringify(config) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const urls = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start within 20 s`)), 20_000)
    child.once('message', (m) => (clearTimeout(timer), resolve(m)))
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`${file} exited with ${code} before listening`))))
  })
  return {
    urls,
    /** The child's user+system CPU time so far, in µs. */
    cpuMicros: () =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${file} did not answer 'cpu' within 10 s`)), 10_000)
        const on = (m) => {
          if (m?.cpu === undefined) return
          clearTimeout(timer)
          child.off('message', on)
          resolve(m.cpu.user + m.cpu.system)
        }
        child.on('message', on)
        child.send('cpu')
      }),
    stop: () =>
      new Promise((resolve) => {
        const timer = setTimeout(() => (child.kill('SIGKILL'), resolve()), 15_000)
        child.once('exit', () => (clearTimeout(timer), resolve()))
        child.send('stop')
      }),
  }
}
