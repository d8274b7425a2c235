// app.js: the console's shell: the token prompt (kept in sessionStorage;
// none needed where the server runs insecureLocal), the navigation, and a
// hash router over the views (#/overview, #/tail, #/event/<id>, #/segments).
import { ApiError, get, getToken, setToken } from './api.js'
import { fill } from './dom.js'
import { eventView } from './event.js'
import { overviewView } from './overview.js'
import { segmentsView } from './segments.js'
import { tailView } from './tail.js'

const main = document.getElementById('main')
const login = document.getElementById('login')
const nav = document.getElementById('nav')
const banner = document.getElementById('banner')
let stopView = () => {}

function showError(e) {
  if (e instanceof ApiError && e.status === 401) return showLogin(`${e.message}`)
  fill(banner, e instanceof ApiError ? `${e.code}: ${e.message}` : String(e?.message ?? e))
  banner.hidden = false
}

function showLogin(why = '') {
  stopView()
  stopView = () => {}
  main.replaceChildren()
  nav.hidden = true
  login.hidden = false
  document.getElementById('login-why').textContent = why
  document.getElementById('token').focus()
}

function route() {
  stopView()
  banner.hidden = true
  const [, view = 'overview', arg] = /^#\/([a-z]+)(?:\/(.+))?$/.exec(location.hash) ?? []
  for (const a of nav.querySelectorAll('a')) a.classList.toggle('active', a.dataset.view === view)
  if (view === 'tail') stopView = tailView(main, showError)
  else if (view === 'segments') stopView = segmentsView(main, showError)
  else if (view === 'event' && arg) stopView = eventView(main, showError, decodeURIComponent(arg))
  else stopView = overviewView(main, showError)
}

/** Checks the token (or its absence) against /health; a 401 asks for one again. */
async function start() {
  try {
    await get('/health')
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return showLogin(getToken() ? 'That token was refused.' : '')
    return showError(e)
  }
  login.hidden = true
  nav.hidden = false
  document.getElementById('who').textContent = getToken() ? 'signed in with a token' : 'no token (insecure local server)'
  route()
}

document.getElementById('login-form').addEventListener('submit', (ev) => {
  ev.preventDefault()
  setToken(document.getElementById('token').value.trim())
  document.getElementById('token').value = ''
  start()
})
document.getElementById('logout').addEventListener('click', () => { setToken(''); showLogin('Signed out.') })
document.getElementById('login-button').disabled = false
window.addEventListener('hashchange', () => { if (!nav.hidden) route() })
start()
