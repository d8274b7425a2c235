// The DCB enrolment example raced by two worker threads on one store: every
// enrolment decides over its course's and its student's events and appends
// only if none came since. However the threads interleave, no course ends
// over its capacity, no student over the course limit, nobody is enrolled
// twice in one course, and every enrolment that got a receipt is in the log.
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { Coordinate, Query, Store } from '../src/index.js'
import { repoRoot, tempDir } from './helpers.js'

// 80 seats for 40 students of at most 3 courses each: both rules bite.
const COURSES = 8
const CAPACITY = 10
const STUDENTS = 40
const MAX_COURSES = 3
const PER_WORKER = 600

interface Report {
  receipts: { studentId: string; courseId: string; sequence: string }[]
  conflicts: number
  refused: number
}

function race(dataDir: string, attempts: [string, string][], start: SharedArrayBuffer): Promise<Report> {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(repoRoot, 'test/enrolment/worker.mjs'), { workerData: { dataDir, attempts, maxCourses: MAX_COURSES, start } })
    w.once('message', resolve)
    w.once('error', reject)
    w.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`worker exited with ${code}`))))
  })
}

/** Both threads try the same enrolments in opposite orders: they collide on the same courses and students. */
function attemptList(): [string, string][] {
  const out: [string, string][] = []
  for (let i = 0; i < PER_WORKER; i++) {
    // A fixed mix of the index (splitmix-like), so a failure replays.
    let x = Math.imul(i + 1, 0x9e3779b1) >>> 0
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0
    x = (x ^ (x >>> 13)) >>> 0
    out.push([`s${x % STUDENTS}`, `c${(x >>> 16) % COURSES}`])
  }
  return out
}

describe('DCB enrolment race', () => {
  it('two threads racing enrolments never overfill a course or a student and lose no enrolment', async () => {
    const dataDir = tempDir('enrol')
    const setup = Store.open({ dataDir })
    // As the example's defineTypes and defineCourse do (the example imports the built package, this file the sources).
    setup.types.define('course.defined')
    setup.types.define('student.enrolled')
    for (let c = 0; c < COURSES; c++) {
      setup.append(new Coordinate(`course:c${c}`, 'school'), 'course.defined', { courseId: `c${c}`, capacity: CAPACITY }, { tags: [`course:c${c}`] })
    }
    setup.close()

    const list = attemptList()
    const start = new SharedArrayBuffer(4)
    const reports = await Promise.all([race(dataDir, list, start), race(dataDir, [...list].reverse(), start)])

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
    // Every attempt ended in a receipt or a refusal by a rule.
    expect(reports.reduce((n, r) => n + r.receipts.length + r.refused, 0)).toBe(2 * PER_WORKER)
    // The store filled up: the rules, not an error, stopped the rest.
    expect(enrolled.length).toBeGreaterThan(0)
    s.close()
  }, 120_000)
})
