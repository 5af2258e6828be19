import type { Migration, MigrationProvider } from 'kysely'
import * as m001 from './001_initial.ts'

/** The PostgreSQL migrations, in code like the SQLite ones (migrationProvider.ts). */
export const pgMigrationProvider: MigrationProvider = {
  getMigrations: async (): Promise<Record<string, Migration>> => ({
    '001_initial': m001,
  }),
}
