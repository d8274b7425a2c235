import { Presets, SingleBar } from 'cli-progress'

/** A progress bar, or nothing at all when the output is not a terminal. */
export interface Progress {
  update(value: number): void
  stop(): void
}

const silent: Progress = { update() {}, stop() {} }

/**
 * Whether long work may draw a bar: only for a person at a terminal, never
 * under --json, and never when stdout carries the data (export to stdout).
 * The bar goes to stderr, so it never mixes into what stdout carries.
 */
export function interactive(opts: { json?: boolean | undefined; dataOnStdout?: boolean }): boolean {
  return !opts.json && !opts.dataOnStdout && process.stdout.isTTY === true && process.stderr.isTTY === true
}

/** Starts a bar of `total` units (events, bytes) labelled `label`, when `enabled`. */
export function progress(label: string, total: number, enabled: boolean, unit = 'events'): Progress {
  if (!enabled || total <= 0) return silent
  const bar = new SingleBar(
    {
      format: `${label.padEnd(8)} {bar} {percentage}% | {value}/{total} ${unit} | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
      etaBuffer: 50,
    },
    Presets.shades_classic,
  )
  bar.start(total, 0)
  return {
    update: (v) => bar.update(Math.min(v, total)),
    stop: () => bar.stop(),
  }
}
