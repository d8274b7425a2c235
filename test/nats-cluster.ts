// Real nats-server processes on 127.0.0.1 for the replication tests: one
// node, or a 3-node JetStream cluster, each with its own temp store dir and
// random free ports. Nodes can be stopped (SIGKILL) and started again on the
// same ports and dir; stopAll() leaves no process behind.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'

/** The nats-server binary, or a reason it cannot be had (scripts/ensure-nats.sh installs it when root may). */
export function natsServer(): { bin: string } | { reason: string } {
  try {
    const out = execFileSync('sh', [path.join(__dirname, '../scripts/ensure-nats.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 320_000 })
    return { bin: out.trim().split('\n').pop()! }
  } catch (e) {
    return { reason: `nats-server is not available: ${String((e as { stderr?: unknown }).stderr ?? (e as Error).message).trim()}` }
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })
}

function healthz(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 1000 }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('error', () => resolve(false))
    req.on('timeout', () => {
      req.destroy()
      resolve(false)
    })
  })
}

interface Node {
  name: string
  client: number
  route: number
  monitor: number
  dir: string
  proc?: ChildProcess
}

export class NatsCluster {
  private constructor(
    private readonly bin: string,
    private readonly nodes: Node[],
    private readonly root: string,
  ) {}

  /** Starts `size` nodes (1: a single JetStream server; 3: a cluster) and waits until JetStream answers. */
  static async start(bin: string, size: number): Promise<NatsCluster> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-nats-'))
    const nodes: Node[] = []
    for (let i = 0; i < size; i++) {
      nodes.push({ name: `n${i}`, client: await freePort(), route: await freePort(), monitor: await freePort(), dir: path.join(root, `n${i}`) })
    }
    const c = new NatsCluster(bin, nodes, root)
    try {
      for (let i = 0; i < size; i++) c.startNode(i)
      await c.ready()
    } catch (e) {
      await c.stopAll()
      throw e
    }
    return c
  }

  get urls(): string[] {
    return this.nodes.map((n) => `nats://127.0.0.1:${n.client}`)
  }

  url(i: number): string {
    return this.urls[i]!
  }

  startNode(i: number): void {
    const n = this.nodes[i]!
    fs.mkdirSync(n.dir, { recursive: true, mode: 0o700 })
    const args = ['-a', '127.0.0.1', '-p', String(n.client), '-m', String(n.monitor), '-n', n.name, '-js', '-sd', n.dir]
    if (this.nodes.length > 1) {
      const routes = this.nodes.filter((o) => o !== n).map((o) => `nats://127.0.0.1:${o.route}`)
      args.push('--cluster_name', 'cw', '--cluster', `nats://127.0.0.1:${n.route}`, '--routes', routes.join(','))
    }
    n.proc = spawn(this.bin, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    n.proc.stderr!.resume()
  }

  /** SIGKILLs node i and waits for its exit. */
  async kill(i: number): Promise<void> {
    const p = this.nodes[i]!.proc
    if (!p || p.exitCode !== null || p.signalCode !== null) return
    const gone = new Promise<void>((r) => p.once('exit', () => r()))
    p.kill('SIGKILL')
    await gone
  }

  /** SIGSTOPs node i: its sockets stay open but nothing answers, as behind a partition. */
  pause(i: number): void {
    this.nodes[i]!.proc?.kill('SIGSTOP')
  }

  /** SIGCONTs a paused node. */
  resume(i: number): void {
    this.nodes[i]!.proc?.kill('SIGCONT')
  }

  /** Waits (bounded) until every running node reports healthy JetStream. */
  async ready(ms = 30_000): Promise<void> {
    const t0 = Date.now()
    for (const n of this.nodes) {
      if (!n.proc || n.proc.exitCode !== null || n.proc.signalCode !== null) continue
      while (!(await healthz(n.monitor))) {
        if (n.proc.exitCode !== null) throw new Error(`nats-server ${n.name} exited with ${n.proc.exitCode}`)
        if (Date.now() - t0 > ms) throw new Error(`nats-server ${n.name} not healthy after ${ms} ms`)
        await new Promise((r) => setTimeout(r, 100))
      }
    }
  }

  async stopAll(): Promise<void> {
    for (let i = 0; i < this.nodes.length; i++) await this.kill(i)
    fs.rmSync(this.root, { recursive: true, force: true })
  }
}
