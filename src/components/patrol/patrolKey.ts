import type { InjectionKey } from 'vue'
import type { usePatrolTrack } from '../../composables/usePatrolTrack.ts'

/**
 * The one patrol recorder of the app, owned by App.vue so that recording goes on while the user moves between
 * screens (a recorder owned by the home page would stop when it unmounts). App.vue provides a getter that makes it
 * on first use: the login page records nothing and should not open the records store the recorder writes through.
 */
export type PatrolTrack = ReturnType<typeof usePatrolTrack>
export const PATROL_KEY: InjectionKey<() => PatrolTrack> = Symbol('patrol')
