/**
 * A worker's tasks (待办) from the records on the device: incidents waiting for this user's on-site check (核查) and
 * households in care groups due for a visit (careVisits.ts). Pure: records and `now` are passed in.
 * An incident is a task only when the workflow table lets this actor verify it now (actionsFor), so the list never
 * offers a step the server would refuse.
 */
import { dueVisits, type DueVisit } from '#shared/domain/careVisits.ts'
import { actionsFor, type Actor, type IncidentStatus } from '#shared/domain/workflow.ts'

/** What the tasks read of a stored record. */
export interface TaskRecord {
  id: string
  fields: Record<string, unknown>
}

export interface VerifyTask {
  id: string
  gridId: string
  category: string
  description: string
  handledAt: number | null
}

export interface VisitTask extends DueVisit {
  address: string
  headName: string
  gridId: string
}

export interface WorkerTasks {
  verify: VerifyTask[]
  visits: VisitTask[]
  count: number
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '')
const num = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? value : null

export function workerTasks(
  actor: Actor,
  records: {
    incidents: readonly TaskRecord[]
    households: readonly TaskRecord[]
    persons: readonly TaskRecord[]
    visits: readonly TaskRecord[]
  },
  now: number,
): WorkerTasks {
  const verify = records.incidents
    .filter((incident) => {
      const status = str(incident.fields['status']) as IncidentStatus
      if (status !== 'handled') return false
      return actionsFor({ status, handlerId: str(incident.fields['handlerId']) || null }, actor).some(
        (t) => t.action === 'verify',
      )
    })
    .map((incident) => ({
      id: incident.id,
      gridId: str(incident.fields['gridId']),
      category: str(incident.fields['category']),
      description: str(incident.fields['description']),
      handledAt: num(incident.fields['handledAt']),
    }))
    // Longest waiting first.
    .sort((a, b) => (a.handledAt ?? 0) - (b.handledAt ?? 0))

  const households = new Map(records.households.map((household) => [household.id, household.fields]))
  const members = records.persons.map((person) => ({
    householdId: str(person.fields['householdId']),
    tags: Array.isArray(person.fields['tags']) ? (person.fields['tags'] as string[]) : [],
  }))
  const visitRows = records.visits.flatMap((visit) => {
    const visitedAt = num(visit.fields['visitedAt'])
    return visitedAt === null
      ? []
      : [{ targetKind: str(visit.fields['targetKind']), targetId: str(visit.fields['targetId']), visitedAt }]
  })
  const visits = dueVisits(members, visitRows, now)
    // A member whose household is not on the device (deleted, out of scope) makes no task.
    .flatMap((due) => {
      const household = households.get(due.householdId)
      if (!household) return []
      return [
        {
          ...due,
          address: str(household['address']),
          headName: str(household['headName']),
          gridId: str(household['gridId']),
        },
      ]
    })
    .sort((a, b) => a.address.localeCompare(b.address, 'zh-CN'))
  return { verify, visits, count: verify.length + visits.length }
}
