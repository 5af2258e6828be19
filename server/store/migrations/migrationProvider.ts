import type { Migration, MigrationProvider } from 'kysely'
import * as m001 from './001_initial.ts'

/** In-code provider: the migrations travel inside the server bundle, no directory scanning. */
export const migrationProvider: MigrationProvider = {
  getMigrations: async (): Promise<Record<string, Migration>> => ({
    '001_initial': m001,
  }),
}
