// api.js: the JSON API as the console calls it. The token lives in
// sessionStorage (gone when the tab closes); every call sends it as
// Authorization: Bearer. Errors come back as ApiError with the server's code.

const KEY = 'causeway.token'

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message)
    this.status = status
    this.code = code
  }
}

export function getToken() {
  return sessionStorage.getItem(KEY) ?? ''
}

export function setToken(token) {
  if (token) sessionStorage.setItem(KEY, token)
  else sessionStorage.removeItem(KEY)
}

export function authHeaders(extra = {}) {
  const t = getToken()
  return t ? { ...extra, authorization: `Bearer ${t}` } : { ...extra }
}

/** A JSON request; resolves to the parsed body, rejects with ApiError. */
export async function api(method, url, body, { signal, timeoutMs = 10_000 } = {}) {
  const timeout = AbortSignal.timeout(timeoutMs)
  const r = await fetch(url, {
    method,
    headers: authHeaders(body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  })
  const text = await r.text()
  let parsed
  try {
    parsed = text ? JSON.parse(text) : null
  } catch {
    parsed = null
  }
  if (!r.ok) {
    const e = parsed?.error
    throw new ApiError(r.status, e?.code ?? `HTTP_${r.status}`, e?.message ?? (text.slice(0, 200) || r.statusText))
  }
  return parsed
}

export const get = (url, opts) => api('GET', url, undefined, opts)
export const post = (url, body, opts) => api('POST', url, body, opts)
