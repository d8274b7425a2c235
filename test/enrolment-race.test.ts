// The DCB enrolment example raced by two worker threads, then by two
// processes (a writer and a client over the writer link), on one store:
// every enrolment decides over its course's and its student's events and
// appends only if none came since. However the racers interleave, no course
// ends over its capacity, no student over the course limit, nobody is
// enrolled twice in one course, and every enrolment that got a receipt is
// in the log.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { Coordinate, Query, Store } from '../src/index.js'
import { repoRoot, tempDir } from './helpers.js'
import { exited, run, until } from './process-helpers.js'

// 80 seats for 40 students of at most 3 courses each: both rules bite.
const COURSES = 8
const CAPACITY = 10
const STUDENTS = 40
const MAX_COURSES = 3
const PER_RACER = 600
const WORKER = path.join(repoRoot, 'test/enrolment/worker.mjs')

interface Report {
  receipts: { studentId: string; courseId: string; sequence: string }[]
  conflicts: number
  refused: number
  role: string
}

/** Both racers try the same enrolments in opposite orders: they collide on the same courses and students. */
function attemptList(): [string, string][] {
  const out: [string, string][] = []
  for (let i = 0; i < PER_RACER; i++) {
    // A fixed mix of the index (splitmix-like), so a failure replays.
    let x = Math.imul(i + 1, 0x9e3779b1) >>> 0
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0
    x = (x ^ (x >>> 13)) >>> 0
    out.push([`s${x % STUDENTS}`, `c${(x >>> 16) % COURSES}`])
  }
  return out
}

/** A store with the example's types and courses (as its defineTypes and defineCourse do: it imports the built package, this file the sources). */
function setUp(): string {
  const dataDir = tempDir('enrol')
  const s = Store.open({ dataDir })
  s.types.define('course.defined')
  s.types.define('student.enrolled')
  for (let c = 0; c < COURSES; c++) {
    s.append(new Coordinate(`course:c${c}`, 'school'), 'course.defined', { courseId: `c${c}`, capacity: CAPACITY }, { tags: [`course:c${c}`] })
  }
  s.close()
  return dataDir
}

function raceThread(dataDir: string, attempts: [string, string][], start: SharedArrayBuffer): Promise<Report> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { workerData: { dataDir, attempts, maxCourses: MAX_COURSES, start } })
    w.once('message', resolve)
    w.once('error', reject)
    w.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`worker exited with ${code}`))))
  })
}

async function raceProcesses(dataDir: string, lists: [string, string][][]): Promise<Report[]> {
  const lines: string[][] = lists.map(() => [])
  const children = lists.map((list, i) => {
    const file = path.join(tempDir('enrol-list'), `attempts-${i}.json`)
    fs.writeFileSync(file, JSON.stringify(list))
    return run(WORKER, [dataDir, file, String(MAX_COURSES)], (l) => lines[i]!.push(l), 'pipe')
  })
  await until('both racers ready', () => lines.every((l) => l.includes('ready')), 30_000)
  for (const c of children) c.stdin!.write('go\n')
  await Promise.all(children.map(exited))
  children.forEach((c, i) => expect(c.exitCode, `racer ${i}`).toBe(0))
  return lines.map((l) => JSON.parse(l[l.length - 1]!) as Report)
}

/** The rules held and nothing was lost. */
function check(dataDir: string, reports: Report[]): void {
  const s = Store.open({ dataDir })
  const enrolled = s.query(Query.items({ types: ['student.enrolled'] }))
  const perCourse = new Map<string, number>()
  const perStudent = new Map<string, number>()
  const pairs = new Set<string>()
  for (const e of enrolled) {
    const { studentId, courseId } = e.payload as { studentId: string; courseId: string }
    perCourse.set(courseId, (perCourse.get(courseId) ?? 0) + 1)
    perStudent.set(studentId, (perStudent.get(studentId) ?? 0) + 1)
    expect(pairs.has(`${studentId}/${courseId}`), `${studentId} enrolled twice in ${courseId}`).toBe(false)
    pairs.add(`${studentId}/${courseId}`)
    expect(e.tags).toEqual([`course:${courseId}`, `student:${studentId}`])
  }
  for (const [c, n] of perCourse) expect(n, `course ${c}`).toBeLessThanOrEqual(CAPACITY)
  for (const [st, n] of perStudent) expect(n, `student ${st}`).toBeLessThanOrEqual(MAX_COURSES)

  // None lost: every receipt names an event of the log with its enrolment, and the log holds no other.
  const bySeq = new Map(enrolled.map((e) => [String(e.globalSequence), e.payload]))
  const receipts = reports.flatMap((r) => r.receipts)
  for (const r of receipts) expect(bySeq.get(r.sequence), `receipt #${r.sequence}`).toEqual({ studentId: r.studentId, courseId: r.courseId })
  expect(receipts.length).toBe(enrolled.length)
  // Every attempt ended in a receipt or a refusal by a rule, never an error.
  expect(reports.reduce((n, r) => n + r.receipts.length + r.refused, 0)).toBe(reports.length * PER_RACER)
  expect(enrolled.length).toBeGreaterThan(0)
  s.close()
}

describe('DCB enrolment race', () => {
  it('two threads racing enrolments never overfill a course or a student and lose no enrolment', async () => {
    const dataDir = setUp()
    const list = attemptList()
    const start = new SharedArrayBuffer(4)
    const reports = await Promise.all([raceThread(dataDir, list, start), raceThread(dataDir, [...list].reverse(), start)])
    check(dataDir, reports)
  })

  it('two processes (a writer and a client) racing enrolments never overfill a course or a student and lose no enrolment', async () => {
    const dataDir = setUp()
    const list = attemptList()
    const reports = await raceProcesses(dataDir, [list, [...list].reverse()])
    expect(reports.map((r) => r.role).sort()).toEqual(['client', 'writer'])
    check(dataDir, reports)
  })
})
