/** How a grid polygon is shaded by its open incidents (the same buckets draw the legend). */
export interface ShadeBucket {
  /** The smallest count in the bucket. */
  min: number
  /** The largest count in the bucket, null for "and above". */
  max: number | null
  color: string
  fillOpacity: number
}

export const SHADE_BUCKETS: readonly ShadeBucket[] = [
  { min: 0, max: 0, color: '#389e0d', fillOpacity: 0.08 },
  { min: 1, max: 2, color: '#fadb14', fillOpacity: 0.3 },
  { min: 3, max: 9, color: '#fa8c16', fillOpacity: 0.35 },
  { min: 10, max: null, color: '#f5222d', fillOpacity: 0.4 },
]

export function shadeFor(count: number): ShadeBucket {
  for (let i = SHADE_BUCKETS.length - 1; i >= 0; i--) {
    const bucket = SHADE_BUCKETS[i]!
    if (count >= bucket.min) return bucket
  }
  return SHADE_BUCKETS[0]!
}
