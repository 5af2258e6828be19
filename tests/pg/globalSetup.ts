import pg from 'pg'

/** The `pg` project fails at once, and loudly, when its database cannot be reached (never a silent skip). */
export default async function setup(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL
  if (!url) throw new Error('!!! PG: TEST_DATABASE_URL is not set !!!')
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 })
  try {
    await client.connect()
    await client.query('select 1')
  } catch (error) {
    throw new Error(`!!! PG: cannot reach TEST_DATABASE_URL (${String(error)}) !!!`, { cause: error })
  } finally {
    await client.end().catch(() => undefined)
  }
}
