/**
 * The signed-in worker's tasks, live from the device's own records (so they work offline and follow every sync).
 * Read with liveRange: complete, unlike the store's newest-first lists, which stop at `listLimit`.
 */
import { computed, type ComputedRef, type Ref } from 'vue'
import type { SessionUser } from '#shared/schemas/api.ts'
import { useLiveQuery } from '../../composables/useLiveQuery.ts'
import { liveRange } from '../../db/recordQueries.ts'
import { getServices } from '../../stores/services.ts'
import { workerTasks, type TaskRecord, type WorkerTasks } from '../../stats/workerTasks.ts'

interface TaskInputs {
  incidents: TaskRecord[]
  households: TaskRecord[]
  persons: TaskRecord[]
  visits: TaskRecord[]
}

const slim = (rows: { id: string; fields: Record<string, unknown> }[]): TaskRecord[] =>
  rows.map(({ id, fields }) => ({ id, fields }))

export function useWorkerTasks(user: Ref<SessionUser | null>): {
  tasks: ComputedRef<WorkerTasks>
  loaded: ComputedRef<boolean>
} {
  const services = getServices()
  const { db } = services
  const inputs = useLiveQuery<TaskInputs | null>(async () => {
    const [incidents, households, persons, visits] = await Promise.all([
      liveRange(db, 'incident').toArray(),
      liveRange(db, 'household').toArray(),
      liveRange(db, 'person').toArray(),
      liveRange(db, 'visit').toArray(),
    ])
    return {
      incidents: slim(incidents),
      households: slim(households),
      persons: slim(persons),
      visits: slim(visits),
    }
  }, null)
  const tasks = computed<WorkerTasks>(() => {
    const current = user.value
    if (!current || !inputs.value) return { verify: [], visits: [], count: 0 }
    return workerTasks({ id: current.id, role: current.role }, inputs.value, services.now())
  })
  return { tasks, loaded: computed(() => inputs.value !== null) }
}
