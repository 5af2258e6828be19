/**
 * The records of the map's filtered view, read from the device (every in-scope record, not a capped list), with the
 * map's own point and filter code, so an export holds exactly what the map shows.
 */
import { liveRange } from '../../db/recordQueries.ts'
import { getServices } from '../../stores/services.ts'
import { pointFilter, type MapFilter } from '../../map/mapFilter.ts'
import { mapPointOf, type MapKind } from '../../map/mapPoints.ts'
import type { ExportRecord } from '../../exchange/recordExport.ts'

export async function loadFilteredRecords(
  kinds: readonly MapKind[],
  filter: MapFilter,
): Promise<ExportRecord[]> {
  const { db, now } = getServices()
  const keep = pointFilter(filter, now())
  const wanted = kinds.filter((kind) => filter.kinds === null || filter.kinds.includes(kind))
  const result: ExportRecord[] = []
  for (const kind of wanted) {
    for (const record of await liveRange(db, kind).toArray()) {
      const point = mapPointOf(record)
      if (point && keep(point)) {
        result.push({
          id: record.id,
          kind: record.kind,
          gridId: record.gridId,
          updatedAt: record.updatedAt,
          fields: record.fields,
        })
      }
    }
  }
  return result
}

/** Offer a file for download (an object URL on a temporary link). */
export function downloadFile(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const link = document.createElement('a')
  link.href = url
  link.download = name
  link.rel = 'noopener'
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
