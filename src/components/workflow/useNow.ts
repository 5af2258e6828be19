import { onBeforeUnmount, ref, type Ref } from 'vue'
import { getServices } from '../../stores/services.ts'

const EVERY_MS = 30_000
const shared = ref(0)
let users = 0
let timer: ReturnType<typeof setInterval> | null = null

/**
 * The device clock (the services' `now`, so tests control it), refreshed every 30 s while any component uses it:
 * one timer for all (every list row's overdue tag reads it).
 */
export function useNow(): Readonly<Ref<number>> {
  const { now } = getServices()
  shared.value = now()
  users += 1
  timer ??= setInterval(() => {
    shared.value = getServices().now()
  }, EVERY_MS)
  onBeforeUnmount(() => {
    users -= 1
    if (users === 0 && timer) {
      clearInterval(timer)
      timer = null
    }
  })
  return shared
}
