// A throwaway self-signed certificate for 127.0.0.1 (openssl, into a temp
// dir), so both servers can speak HTTP/2 over TLS: causeway serves HTTP/2
// only over TLS, and the baseline gets the same transport.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

export function selfSigned() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cw-httpbench-tls-'))
  const key = path.join(dir, 'key.pem')
  const cert = path.join(dir, 'cert.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' })
  const out = { key: fs.readFileSync(key, 'utf8'), cert: fs.readFileSync(cert, 'utf8') }
  fs.rmSync(dir, { recursive: true, force: true })
  return out
}
