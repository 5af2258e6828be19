import type { Migration, MigrationProvider } from 'kysely'
import * as m001 from './001_initial.ts'
import * as m002 from './002_accounts.ts'
import * as m003 from './003_record_exits.ts'
import * as m004 from './004_field_capture.ts'
import * as m005 from './005_conflict_resolutions.ts'
import * as m006 from './006_op_writes.ts'

/** In-code provider: the migrations travel inside the server bundle, no directory scanning. */
export const migrationProvider: MigrationProvider = {
  getMigrations: async (): Promise<Record<string, Migration>> => ({
    '001_initial': m001,
    '002_accounts': m002,
    '003_record_exits': m003,
    '004_field_capture': m004,
    '005_conflict_resolutions': m005,
    '006_op_writes': m006,
  }),
}
