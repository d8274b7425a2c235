/**
 * Whether a process of this machine is still running: signal 0 checks
 * without sending anything; EPERM means it exists under another user.
 * Used to tell a killed process's leftovers (a busy marker, a temp
 * directory) from those of one still at work.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
