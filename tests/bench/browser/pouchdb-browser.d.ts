/**
 * The little of pouchdb-browser's API the bench page uses (the package ships no types; @types/pouchdb-browser is
 * for PouchDB 6). `replicate.from` returns a replication that is also a promise of its result.
 */
declare module 'pouchdb-browser' {
  interface ReplicationResult {
    ok: boolean
    status: string
    docs_read: number
    docs_written: number
    doc_write_failures: number
    errors: unknown[]
  }
  interface Database {
    replicate: {
      from(
        source: string,
        options?: { batch_size?: number; batches_limit?: number },
      ): Promise<ReplicationResult>
    }
    info(): Promise<{ doc_count: number; update_seq: number | string; adapter: string }>
    close(): Promise<void>
  }
  const PouchDB: new (name: string, options?: { adapter?: string }) => Database
  export default PouchDB
}
