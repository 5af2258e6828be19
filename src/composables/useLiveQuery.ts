import { liveQuery } from 'dexie'
import type { Subscription } from 'dexie'
import { getCurrentScope, onScopeDispose, shallowRef, watch } from 'vue'
import type { ShallowRef, WatchSource } from 'vue'

/**
 * A Dexie live query as a Vue ref: it re-runs when the tables it read change (in this tab or another) and
 * unsubscribes when the calling effect scope (component, store) is disposed. Pass `deps` to re-subscribe when
 * reactive inputs of the query change.
 */
export function useLiveQuery<T>(
  querier: () => T | Promise<T>,
  initial: T,
  deps?: WatchSource | WatchSource[],
): Readonly<ShallowRef<T>> {
  const value = shallowRef(initial) as ShallowRef<T>
  let subscription: Subscription | null = null
  const subscribe = () => {
    subscription?.unsubscribe()
    subscription = liveQuery(querier).subscribe({
      next: (result) => {
        value.value = result
      },
      error: (error: unknown) => {
        console.error('live query failed', error)
      },
    })
  }
  if (deps) watch(deps, subscribe, { immediate: true })
  else subscribe()
  if (getCurrentScope()) {
    onScopeDispose(() => {
      subscription?.unsubscribe()
      subscription = null
    })
  }
  return value
}
