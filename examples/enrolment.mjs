// Dynamic consistency boundaries (dcb.events), after go-crablet's course
// example: a course holds at most its capacity, a student takes at most
// MAX_COURSES courses. No aggregate owns both rules; each enrolment decides
// over the events tagged with its course or its student (one DCB query),
// and appendIf writes it only if no such event came since the decision.
// Two enrolments that touch neither the same course nor the same student
// never conflict.
//
// Run: node examples/enrolment.mjs   (test/enrolment-race.test.ts races it on two threads)
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { AppendConditionError, Coordinate, Query, Store } from 'causeway'

export const MAX_COURSES = 3

/** The types, defined once per store (defining the same again is a no-op). */
export function defineTypes(store) {
  store.types.define('course.defined')
  store.types.define('student.enrolled')
}

const courseTag = (id) => `course:${id}`
const studentTag = (id) => `student:${id}`

/** Defines a course once: a second definition of the same course is refused. */
export function defineCourse(store, courseId, capacity) {
  const query = Query.items({ types: ['course.defined'], tags: [courseTag(courseId)] })
  store.appendIf([{ coord: new Coordinate(`course:${courseId}`, 'school'), kind: 'course.defined', payload: { courseId, capacity }, tags: [courseTag(courseId)] }], {
    failIfEventsMatch: query,
    after: null,
  })
}

/** The projections one enrolment decides with, each over the one query's events. */
function decisionModel(studentId, courseId) {
  const tagged = (e, tag) => e.tags.includes(tag)
  return {
    capacity: { name: 'capacity', version: 1, kinds: ['course.defined'], init: () => null, apply: (_, e) => e.payload.capacity },
    courseStudents: { name: 'courseStudents', version: 1, kinds: ['student.enrolled'], init: () => 0, apply: (n, e) => (tagged(e, courseTag(courseId)) ? n + 1 : n) },
    studentCourses: { name: 'studentCourses', version: 1, kinds: ['student.enrolled'], init: () => 0, apply: (n, e) => (tagged(e, studentTag(studentId)) ? n + 1 : n) },
    already: {
      name: 'already',
      version: 1,
      kinds: ['student.enrolled'],
      init: () => false,
      apply: (was, e) => was || (tagged(e, courseTag(courseId)) && tagged(e, studentTag(studentId))),
    },
  }
}

/**
 * Enrols a student: decide, check both rules, appendIf after the decision's
 * position; on a conflict (someone else enrolled in this course or this
 * student enrolled elsewhere meanwhile) decide again.
 * Returns { ok: true, sequence, attempts } or { ok: false, reason, attempts }.
 */
export function enrol(store, studentId, courseId, maxCourses = MAX_COURSES) {
  // The consistency boundary: the course's events, and the student's enrolments.
  const query = Query.items(
    { types: ['course.defined', 'student.enrolled'], tags: [courseTag(courseId)] },
    { types: ['student.enrolled'], tags: [studentTag(studentId)] },
  )
  const model = decisionModel(studentId, courseId)
  for (let attempts = 1; ; attempts++) {
    const { states, position } = store.decide(query, model)
    if (states.capacity === null) return { ok: false, reason: 'no such course', attempts }
    if (states.already) return { ok: false, reason: 'already enrolled', attempts }
    if (states.courseStudents >= states.capacity) return { ok: false, reason: 'course full', attempts }
    if (states.studentCourses >= maxCourses) return { ok: false, reason: 'student at the course limit', attempts }
    try {
      const [r] = store.appendIf(
        [{ coord: new Coordinate(`student:${studentId}`, 'school'), kind: 'student.enrolled', payload: { studentId, courseId }, tags: [courseTag(courseId), studentTag(studentId)] }],
        { failIfEventsMatch: query, after: position },
      )
      return { ok: true, sequence: r.globalSequence, attempts }
    } catch (e) {
      if (e instanceof AppendConditionError) continue // the boundary moved: decide again
      throw e
    }
  }
}

function main() {
  const store = Store.open({ dataDir: process.env.CAUSEWAY_DATA ?? mkdtempSync(join(tmpdir(), 'causeway-enrolment-')) })
  defineTypes(store)
  defineCourse(store, 'c1', 2)
  defineCourse(store, 'c2', 10)
  for (const c of ['c3', 'c4', 'c5']) defineCourse(store, c, 10)

  const show = (s, c) => {
    const r = enrol(store, s, c)
    console.log(`${s} -> ${c}: ${r.ok ? `enrolled at #${r.sequence}` : `refused (${r.reason})`}`)
  }
  show('s1', 'c1')
  show('s2', 'c1')
  show('s3', 'c1') // course full: capacity 2
  show('s1', 'c1') // already enrolled
  for (const c of ['c2', 'c3', 'c4']) show('s1', c) // the third of these is s1's fourth course

  // A race, step by step: s4 decides on c2, then s5 enrols in c2 first.
  const query = Query.items({ types: ['course.defined', 'student.enrolled'], tags: ['course:c2'] }, { types: ['student.enrolled'], tags: ['student:s4'] })
  const seen = store.decide(query, [{ name: 'n', version: 1, kinds: ['student.enrolled'], init: () => 0, apply: (n) => n + 1 }])
  show('s5', 'c2')
  try {
    store.appendIf([{ coord: new Coordinate('student:s4', 'school'), kind: 'student.enrolled', payload: { studentId: 's4', courseId: 'c2' }, tags: ['course:c2', 'student:s4'] }], {
      failIfEventsMatch: query,
      after: seen.position,
    })
  } catch (e) {
    if (!(e instanceof AppendConditionError)) throw e
    console.log('s4 -> c2: conflict, the decision is stale; deciding again')
  }
  const again = enrol(store, 's4', 'c2')
  console.log(`s4 -> c2: ${again.ok ? 'enrolled' : again.reason} after ${again.attempts} attempt(s)`)

  // Who is in c2, straight from the tag index.
  const c2 = store.query(Query.items({ types: ['student.enrolled'], tags: ['course:c2'] })).map((e) => e.payload.studentId)
  console.log(`c2 holds ${c2.join(', ')}`)
  store.close()
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main()
